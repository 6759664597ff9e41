// libFuzzer target: the keepalived.conf tokenizer, statement grouper and reader. Any input must
// give a configuration or a KeepalivedConfigError, never a trap. `include` resolves to the input
// itself, which exercises the nesting bound.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeepalived(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let access = KeepalivedFileAccess(read: { _ in bytes }, glob: { [$0] })
    do {
        let config = try KeepalivedConfig.load("/fuzz/keepalived.conf", access: access)
        for instance in config.instances {
            precondition(!instance.virtualAddresses.isEmpty && instance.virtualRouterID > 0)
        }
    } catch let error as KeepalivedConfigError {
        precondition(!error.description.contains("\n"), "multi-line error")
    } catch {
        fatalError("unexpected error type \(error)")
    }
    return 0
}

// libFuzzer target: /proc/meminfo parsing and free's formulas never trap (no overflow either).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMemInfo(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let m = MemoryInfo(parsing: text) {
        _ = (m.usedKiB, m.buffCacheKiB, m.availableKiB, m.swapUsedKiB)
    }
    return 0
}

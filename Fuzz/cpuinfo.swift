// libFuzzer target: /proc/cpuinfo parsing and the lscpu-style summary never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCPUInfo(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let cpu = CPUInfo(parsing: text)
    _ = cpu.modelName
    _ = CPUSummary(cpu: cpu).lscpuText
    return 0
}

// libFuzzer target: the dump reader's tar parser (paths, links, pax and GNU long names, limits),
// and the sysfs CPU-list and topology parsers on the files it yields.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let limits = DumpLimits(fileBytes: 1 << 16, totalBytes: 1 << 20, entries: 256)
    guard let files = try? TarArchive.read(UnsafeBufferPointer(start: data, count: size), limits: limits) else { return 0 }
    let text = files.mapValues { String(decoding: $0, as: UTF8.self) }
    _ = text.values.map { CPUTopology.parseList($0) }
    _ = CPUTopology(read: { text[$0] }, list: { dir in
        text.keys.filter { $0.hasPrefix(dir + "/") }.compactMap { $0.dropFirst(dir.count + 1).split(separator: "/").first.map(String.init) }
    })
    return 0
}

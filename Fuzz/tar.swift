// libFuzzer target: the dump reader's gzip members (when the input starts with gzip's magic) and
// tar parser (paths, links, pax and GNU long names, limits), and the sysfs CPU-list and topology
// parsers on the files it yields.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let limits = DumpLimits(fileBytes: 1 << 16, totalBytes: 1 << 20, entries: 256)
    let input = UnsafeBufferPointer(start: data, count: size)
    var inflated: [UInt8] = []
    if size >= 2 && data[0] == 0x1F && data[1] == 0x8B {
        guard let tar = try? Gzip.decompress(Array(input), limit: limits.totalBytes) else { return 0 }
        inflated = tar
    }
    let files: [String: [UInt8]]? = inflated.isEmpty
        ? try? TarArchive.read(input, limits: limits)
        : inflated.withUnsafeBufferPointer { try? TarArchive.read($0, limits: limits) }
    guard let files else { return 0 }
    let text = files.mapValues { String(decoding: $0, as: UTF8.self) }
    _ = text.values.map { CPUTopology.parseList($0) }
    _ = CPUTopology(read: { text[$0] }, list: { dir in
        text.keys.filter { $0.hasPrefix(dir + "/") }.compactMap { $0.dropFirst(dir.count + 1).split(separator: "/").first.map(String.init) }
    })
    return 0
}

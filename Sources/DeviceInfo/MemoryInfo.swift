/// `/proc/meminfo`, reduced to what `free` shows, with procps-ng 4's formulas.
public struct MemoryInfo: Sendable, Hashable, Encodable {
    /// Every `Key: value kB` line, in KiB (lines without a unit keep their raw number).
    public let fields: [String: UInt64]

    public var totalKiB: UInt64 { fields["MemTotal"] ?? 0 }
    public var freeKiB: UInt64 { fields["MemFree"] ?? 0 }
    public var sharedKiB: UInt64 { fields["Shmem"] ?? 0 }
    public var buffersKiB: UInt64 { fields["Buffers"] ?? 0 }
    /// procps' "cached": page cache plus reclaimable slab.
    public var cachedKiB: UInt64 { (fields["Cached"] ?? 0) + (fields["SReclaimable"] ?? 0) }
    public var buffCacheKiB: UInt64 { buffersKiB + cachedKiB }
    /// MemAvailable, or procps' estimate on kernels older than 3.14 (free + buff/cache).
    public var availableKiB: UInt64 {
        let available = fields["MemAvailable"] ?? (freeKiB + buffCacheKiB)
        return available > totalKiB ? freeKiB : available
    }
    /// procps-ng 4: used = total - available.
    public var usedKiB: UInt64 { totalKiB > availableKiB ? totalKiB - availableKiB : 0 }
    public var swapTotalKiB: UInt64 { fields["SwapTotal"] ?? 0 }
    public var swapFreeKiB: UInt64 { fields["SwapFree"] ?? 0 }
    public var swapUsedKiB: UInt64 { swapTotalKiB > swapFreeKiB ? swapTotalKiB - swapFreeKiB : 0 }

    public init(fields: [String: UInt64]) { self.fields = fields }

    /// Parses `/proc/meminfo`. Malformed lines are skipped; returns nil if MemTotal is missing.
    public init?(parsing text: String) {
        var fields: [String: UInt64] = [:]
        for line in text.splitUTF8(separator: 0x0A, omittingEmpty: true) {
            guard let colon = line.utf8.firstIndex(of: 0x3A) else { continue }  // ':'
            let key = String(line[..<colon])
            let rest = line[line.index(after: colon)...].splitUTF8(separator: 0x20, omittingEmpty: true)
            guard let first = rest.first, let value = UInt64(first) else { continue }
            if rest.count > 1 {
                switch rest[1] {
                case "kB": fields[key] = value
                default: continue
                }
            } else {
                fields[key] = value
            }
        }
        guard fields["MemTotal"] != nil else { return nil }
        self.fields = fields
    }

    private enum CodingKeys: String, CodingKey {
        case totalKiB, usedKiB, freeKiB, sharedKiB, buffersKiB, cachedKiB, buffCacheKiB, availableKiB
        case swapTotalKiB, swapUsedKiB, swapFreeKiB
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(totalKiB, forKey: .totalKiB)
        try c.encode(usedKiB, forKey: .usedKiB)
        try c.encode(freeKiB, forKey: .freeKiB)
        try c.encode(sharedKiB, forKey: .sharedKiB)
        try c.encode(buffersKiB, forKey: .buffersKiB)
        try c.encode(cachedKiB, forKey: .cachedKiB)
        try c.encode(buffCacheKiB, forKey: .buffCacheKiB)
        try c.encode(availableKiB, forKey: .availableKiB)
        try c.encode(swapTotalKiB, forKey: .swapTotalKiB)
        try c.encode(swapUsedKiB, forKey: .swapUsedKiB)
        try c.encode(swapFreeKiB, forKey: .swapFreeKiB)
    }
}

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
        fields.reserveCapacity(64)
        var text = text  // withUTF8 needs it mutable; a native string is not copied
        text.withUTF8 { bytes in
            forEachLine(bytes) { line in
                guard let colon = bytes[line].firstIndex(of: 0x3A) else { return }  // ':'
                // `Key: value kB`: the words after the colon, split at spaces.
                var i = colon + 1
                func word() -> Range<Int>? {
                    while i < line.upperBound && bytes[i] == 0x20 { i += 1 }
                    let start = i
                    while i < line.upperBound && bytes[i] != 0x20 { i += 1 }
                    return start == i ? nil : start..<i
                }
                guard let number = word(), let value = decimalUInt64(bytes[number]) else { return }
                if let unit = word(), !bytes[unit].elementsEqual("kB".utf8) { return }
                fields[String(decoding: bytes[line.lowerBound..<colon], as: UTF8.self)] = value
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

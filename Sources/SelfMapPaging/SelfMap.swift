/// A virtual address, stored in its 64-bit (sign-extended where canonical) form.
///
/// It encodes as a `0x…` hex string, since JSON numbers cannot hold 64 bits exactly.
public struct VirtualAddress: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var raw: UInt64
    public init(_ raw: UInt64) { self.raw = raw }
    public static func < (a: VirtualAddress, b: VirtualAddress) -> Bool { a.raw < b.raw }
    /// Uppercase hex with `0x`, 16 digits in long mode and 8 in 32-bit modes when `width` says so.
    public func hex(digits width: Int = 0) -> String {
        let digits = String(raw, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    public var description: String { hex() }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard text.hasPrefix("0x"), let v = UInt64(text.dropFirst(2), radix: 16) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected 0x-prefixed hex"))
        }
        raw = v
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex())
    }
}

/// Errors in address arithmetic.
public enum AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    case nonCanonical(UInt64, PagingMode)
    case outOfRange(UInt64, PagingMode)
    case invalidSelfMapIndex(Int, PagingMode, reason: String)

    public var description: String {
        switch self {
        case .nonCanonical(let va, let mode):
            "0x\(String(va, radix: 16)) is not canonical in \(mode.rawValue) (bits 63..\(mode.virtualAddressBits - 1) must all equal bit \(mode.virtualAddressBits - 1))"
        case .outOfRange(let va, let mode):
            "0x\(String(va, radix: 16)) does not fit \(mode.virtualAddressBits) bits in \(mode.rawValue)"
        case .invalidSelfMapIndex(let index, let mode, let reason):
            "self-map index \(index) is invalid for \(mode.rawValue): \(reason)"
        }
    }
}

/// Where the self-reference places every page table in the virtual address space.
///
/// For 2-, 4- and 5-level paging the root table points to itself at `index`.
/// PAE's 4-entry PDPT cannot do that (its entries have another format and it is not a
/// 4 KiB table), so the four page directories are mapped by four consecutive PDEs
/// starting at global PDE number `index` (PDPT slot `index / 512`, PD entry `index % 512`),
/// the pattern Windows and FreeBSD use. The PDPT itself is then not reachable through the map.
public struct SelfMap: Sendable, Hashable, Codable {
    public let mode: PagingMode
    public let index: Int

    public init(mode: PagingMode, index: Int? = nil) throws(AddressError) {
        let index = index ?? mode.defaultSelfMapIndex
        switch mode {
        case .pae:
            guard (0...2044).contains(index), index % 4 == 0 else {
                throw .invalidSelfMapIndex(index, mode, reason: "PAE needs a global PDE number that is a multiple of 4, 0...2044")
            }
        default:
            let count = mode.entryCount(atLevel: mode.levels)
            guard (0..<count).contains(index) else {
                throw .invalidSelfMapIndex(index, mode, reason: "the root table has entries 0...\(count - 1)")
            }
        }
        self.mode = mode
        self.index = index
    }

    /// Reduces `va` to its significant bits, checking it is a valid address in this mode.
    public func significantBits(of va: UInt64) throws(AddressError) -> UInt64 {
        let bits = mode.virtualAddressBits
        let mask: UInt64 = (1 << UInt64(bits)) - 1
        if mode.isCanonicalSignExtended {
            guard canonical(va & mask) == va else { throw .nonCanonical(va, mode) }
        } else {
            guard va <= mask else { throw .outOfRange(va, mode) }
        }
        return va & mask
    }

    /// Sign-extends the significant bits to a canonical address (identity in 32-bit modes).
    public func canonical(_ bits: UInt64) -> UInt64 {
        guard mode.isCanonicalSignExtended else { return bits }
        let shift = UInt64(64 - mode.virtualAddressBits)
        return UInt64(bitPattern: Int64(bitPattern: bits << shift) >> Int64(shift))
    }

    /// The table index `va` uses at `level`.
    public func index(of va: UInt64, atLevel level: Int) throws(AddressError) -> Int {
        let bits = try significantBits(of: va)
        return Int((bits >> UInt64(mode.shift(ofLevel: level))) & UInt64(mode.entryCount(atLevel: level) - 1))
    }

    /// The virtual address of the level-`level` table that translates `va`,
    /// or nil where the mode cannot self-map that level (PAE's PDPT).
    public func tableAddress(covering va: UInt64, level: Int) throws(AddressError) -> VirtualAddress? {
        precondition((1...mode.levels).contains(level), "level out of range")
        let bits = try significantBits(of: va)
        switch mode {
        case .pae:
            let region = UInt64(index) << 21
            switch level {
            case 1: return VirtualAddress(region + (bits >> 21) << 12)
            case 2:
                let pdpt = UInt64(index / 512), pd = UInt64(index % 512)
                return VirtualAddress(region + pdpt << 21 + (pd + (bits >> 30)) << 12)
            default: return nil
            }
        default:
            let n = mode.levels
            var address: UInt64 = 0
            // The top `level` index positions hold the self-reference...
            for position in (n - level + 1)...n {
                address |= UInt64(index) << UInt64(mode.shift(ofLevel: position))
            }
            // ...and the rest hold the indices of the levels above `level`, shifted down.
            if level < n {
                let upper = bits >> UInt64(mode.shift(ofLevel: level + 1))
                address |= upper << 12
            }
            return VirtualAddress(canonical(address))
        }
    }

    /// The virtual address of the level-`level` entry that translates `va`.
    public func entryAddress(covering va: UInt64, level: Int) throws(AddressError) -> VirtualAddress? {
        guard let table = try tableAddress(covering: va, level: level) else { return nil }
        let i = try index(of: va, atLevel: level)
        return VirtualAddress(table.raw + UInt64(i * mode.entrySize))
    }

    /// One row of the self-mapped address table.
    public struct Region: Sendable, Hashable, Codable {
        public let level: Int
        public let name: String
        /// Address of the table that covers the lowest virtual address, or nil if not self-mapped.
        public let first: VirtualAddress?
        /// Address of the table that covers the highest virtual address.
        public let last: VirtualAddress?
        /// How many tables of this level the address space can hold.
        public let tableCount: UInt64
        /// Bytes of virtual address space the level's tables occupy.
        public let regionBytes: UInt64
    }

    /// Every level's table region, page tables first, like Table 1 of the paper.
    public var regions: [Region] {
        let high = canonical((1 << UInt64(mode.virtualAddressBits)) - 1)
        return (1...mode.levels).map { level in
            let first = try? tableAddress(covering: 0, level: level)
            let last = try? tableAddress(covering: high, level: level)
            let count: UInt64 = level == mode.levels ? 1 : 1 << UInt64(mode.virtualAddressBits - mode.shift(ofLevel: level + 1))
            return Region(
                level: level, name: mode.tableName(atLevel: level), first: first, last: last,
                tableCount: count, regionBytes: first == nil ? 0 : count * 4096)
        }
    }
}

extension SelfMap {
    /// Entry addresses as one add and one shift per level, for the self-map itself (`window` nil)
    /// or for another address space whose root is installed in root slot `window` (PAE: global
    /// PDEs `window`…`window`+3). That space must use the same self-map index.
    public struct Addressing: Sendable, Hashable {
        public let mode: PagingMode
        /// The slot this addressing goes through.
        public let slot: Int
        @usableFromInline let bases: [UInt64]
        @usableFromInline let shifts: [UInt64]
        @usableFromInline let entryShift: UInt64
        /// 64 minus the address width in long mode (sign extension), 0 otherwise.
        @usableFromInline let signShift: UInt64
        @usableFromInline let regionShift: UInt64
        @usableFromInline let regionTag: UInt64

        init(map: SelfMap, slot: Int) {
            let mode = map.mode
            self.mode = mode
            self.slot = slot
            let n = mode.levels
            shifts = (0...n).map { $0 == 0 ? 0 : UInt64(mode.shift(ofLevel: $0)) }
            entryShift = mode.entrySize == 4 ? 2 : 3
            signShift = mode == .x86_64 || mode == .la57 ? UInt64(64 - mode.virtualAddressBits) : 0
            switch mode {
            case .pae:
                let region = UInt64(slot) << 21
                bases = [0, region, region + UInt64(map.index / 512) << 21 + UInt64(map.index % 512) << 12, 0]
                regionShift = 23
                regionTag = UInt64(slot) >> 2
            default:
                bases = (0...n).map { level in
                    guard level > 0 else { return 0 }
                    var base: UInt64 = 0
                    for position in stride(from: n, to: n - level + 1, by: -1) { base |= UInt64(map.index) << UInt64(mode.shift(ofLevel: position)) }
                    return base | UInt64(slot) << UInt64(mode.shift(ofLevel: n - level + 1))
                }
                regionShift = UInt64(mode.shift(ofLevel: n))
                regionTag = UInt64(slot)
            }
        }

        @inlinable @inline(__always) func canonical(_ bits: UInt64) -> UInt64 {
            UInt64(bitPattern: Int64(bitPattern: bits &<< signShift) &>> Int64(signShift))
        }

        /// The virtual address of the level-`level` entry for significant bits `sig`.
        @inlinable @inline(__always) public func entryAddress(_ sig: UInt64, level: Int) -> UInt64 {
            canonical(bases[level] &+ ((sig &>> shifts[level]) &<< entryShift))
        }

        /// The virtual address of the level-`level` table for `sig`.
        @inlinable public func tableAddress(_ sig: UInt64, level: Int) -> UInt64 {
            entryAddress(sig, level: level) & ~0xFFF
        }

        /// Whether `sig` lies in the region this slot maps.
        @inlinable public func contains(_ sig: UInt64) -> Bool { sig >> regionShift == regionTag }
    }

    /// Fast entry addressing through the self-map (`slot` nil) or through a window slot.
    public func addressing(slot: Int? = nil) -> Addressing { Addressing(map: self, slot: slot ?? index) }
}

/// The flag bits of an x86 page-table entry (Intel SDM vol. 3A, 4.3–4.5).
///
/// Bit 7 is PS in a PDE or PDPTE (a large page) and PAT in a PTE; bit 12 is PAT in a large-page
/// entry. Bits 9–11 and 52–58 are ignored by the CPU and free for software: this library's
/// copy-on-write marker is bit 9. NX (bit 63) exists only in PAE and long mode.
public struct EntryFlags: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let present = EntryFlags(rawValue: 1 << 0)
    public static let writable = EntryFlags(rawValue: 1 << 1)
    public static let user = EntryFlags(rawValue: 1 << 2)
    public static let writeThrough = EntryFlags(rawValue: 1 << 3)
    public static let cacheDisable = EntryFlags(rawValue: 1 << 4)
    public static let accessed = EntryFlags(rawValue: 1 << 5)
    public static let dirty = EntryFlags(rawValue: 1 << 6)
    /// PS in a PDE/PDPTE: the entry maps a large page.
    public static let pageSize = EntryFlags(rawValue: 1 << 7)
    /// PAT in a 4 KiB PTE (the same bit as PS).
    public static let pat = EntryFlags(rawValue: 1 << 7)
    public static let global = EntryFlags(rawValue: 1 << 8)
    /// Software bit 9; this library marks copy-on-write pages with it.
    public static let copyOnWrite = EntryFlags(rawValue: 1 << 9)
    public static let available10 = EntryFlags(rawValue: 1 << 10)
    public static let available11 = EntryFlags(rawValue: 1 << 11)
    /// PAT in a large-page entry.
    public static let largePAT = EntryFlags(rawValue: 1 << 12)
    public static let noExecute = EntryFlags(rawValue: 1 << 63)

    /// Bits 52–58 of a 64-bit entry, ignored by the CPU.
    public static let availableHigh = EntryFlags(rawValue: 0x07F0_0000_0000_0000)
    /// Bits 59–62: the protection key of a leaf in long mode (ignored without CR4.PKE).
    public static let protectionKey = EntryFlags(rawValue: 0x7800_0000_0000_0000)

    /// The names `labctl paging` prints, lowest bit first.
    public static let names: [(EntryFlags, String)] = [
        (.present, "P"), (.writable, "RW"), (.user, "US"), (.writeThrough, "PWT"), (.cacheDisable, "PCD"),
        (.accessed, "A"), (.dirty, "D"), (.pageSize, "PS"), (.global, "G"), (.copyOnWrite, "COW"),
        (.available10, "AVL10"), (.available11, "AVL11"), (.noExecute, "NX"),
    ]

    /// Parses `P|RW|US|NX`-style names (case-insensitive, `|` or `,` between them).
    public init?(names text: String) {
        var flags: EntryFlags = []
        for part in text.split(whereSeparator: { $0 == "|" || $0 == "," }) {
            let name = part.uppercased()
            guard let f = Self.names.first(where: { $0.1 == name })?.0 else { return nil }
            flags.insert(f)
        }
        self = flags
    }

    public var names: String {
        Self.names.filter { contains($0.0) }.map(\.1).joined(separator: "|")
    }
}

/// A page size, and the level whose entry maps it.
public enum PageSize: UInt64, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case size4KiB = 0x1000
    case size2MiB = 0x20_0000
    case size4MiB = 0x40_0000
    case size1GiB = 0x4000_0000

    public var bytes: UInt64 { rawValue }

    /// The level of the leaf entry in `mode`, or nil when the mode has no such page.
    public func level(in mode: PagingMode) -> Int? {
        switch (self, mode) {
        case (.size4KiB, _): 1
        case (.size4MiB, .i386): 2
        case (.size2MiB, .pae), (.size2MiB, .x86_64), (.size2MiB, .la57): 2
        case (.size1GiB, .x86_64), (.size1GiB, .la57): 3
        default: nil
        }
    }

    public static func at(level: Int, in mode: PagingMode) -> PageSize? {
        allCases.first { $0.level(in: mode) == level }
    }

    public var description: String {
        switch self {
        case .size4KiB: "4 KiB"
        case .size2MiB: "2 MiB"
        case .size4MiB: "4 MiB"
        case .size1GiB: "1 GiB"
        }
    }
}

/// How entries are laid out in one paging mode on one CPU: which bits hold the address and
/// which are reserved (a reserved bit set makes the walk fault with RSVD).
public struct EntryFormat: Sendable, Hashable {
    public let mode: PagingMode
    /// MAXPHYADDR: the CPU's physical address width (QEMU's TCG default is 40).
    public let physicalAddressBits: Int
    /// EFER.NXE; without it bit 63 is reserved in PAE and long mode.
    public let noExecuteEnabled: Bool

    /// Bit `level` set: entries at that level can map a large page.
    @usableFromInline let largePageLevels: UInt8
    /// Reserved bits by level (index 0 unused), for table pointers and for leaves.
    @usableFromInline let reservedTableMasks: [UInt64]
    @usableFromInline let reservedLeafMasks: [UInt64]
    /// The address bits of a table pointer (not i386).
    let tableAddressMask: UInt64
    /// By level (index 0 unused): the lowest address bit the level's index takes, and the index mask.
    @usableFromInline let levelShifts: [UInt64]
    @usableFromInline let indexMasks: [UInt64]

    public init(mode: PagingMode, physicalAddressBits: Int = 40, noExecuteEnabled: Bool = true) {
        precondition((32...52).contains(physicalAddressBits))
        self.mode = mode
        self.physicalAddressBits = physicalAddressBits
        self.noExecuteEnabled = noExecuteEnabled && mode != .i386
        largePageLevels = (2...mode.levels).reduce(0) { bits, level in
            PageSize.at(level: level, in: mode) == nil ? bits : bits | 1 << UInt8(level)
        }
        tableAddressMask = Self.bits(physicalAddressBits - 1, 12)
        levelShifts = (0...mode.levels).map { $0 == 0 ? 0 : UInt64(mode.shift(ofLevel: $0)) }
        indexMasks = (0...mode.levels).map { $0 == 0 ? 0 : UInt64(mode.entryCount(atLevel: $0) - 1) }
        let nx = self.noExecuteEnabled
        reservedTableMasks = (0...mode.levels).map { Self.reservedBits(mode, physicalAddressBits, nx, level: $0, leaf: false) }
        reservedLeafMasks = (0...mode.levels).map { Self.reservedBits(mode, physicalAddressBits, nx, level: $0, leaf: true) }
    }

    /// The flags of the kernel's entries for its own tables (the self-map, the fork window):
    /// writable, supervisor, and not executable where NX exists.
    public var kernelTableFlags: EntryFlags {
        noExecuteEnabled ? [.present, .writable, .noExecute] : [.present, .writable]
    }

    /// Whether entries at `level` can map a page directly.
    @inlinable public func allowsLargePage(atLevel level: Int) -> Bool {
        largePageLevels >> UInt8(truncatingIfNeeded: level) & 1 != 0
    }

    /// Whether `raw` at `level` maps a page rather than pointing to a table.
    @inlinable public func isLeaf(_ raw: UInt64, level: Int) -> Bool {
        level == 1 || (raw & EntryFlags.pageSize.rawValue != 0 && allowsLargePage(atLevel: level))
    }

    private static func bits(_ high: Int, _ low: Int) -> UInt64 {
        guard high >= low else { return 0 }
        let width = high - low + 1
        return (width >= 64 ? ~0 : (1 << UInt64(width)) - 1) << UInt64(low)
    }

    /// The reserved bits of an entry at `level` (a leaf if `leaf`).
    @inlinable public func reservedMask(level: Int, leaf: Bool) -> UInt64 {
        leaf ? reservedLeafMasks[level] : reservedTableMasks[level]
    }

    static func reservedBits(_ mode: PagingMode, _ m: Int, _ noExecuteEnabled: Bool, level: Int, leaf: Bool) -> UInt64 {
        guard level > 0 else { return 0 }
        switch mode {
        case .i386:
            // 4 MiB pages with PSE-36: bits 20:13 hold physical address bits 39:32.
            guard level == 2, leaf else { return 0 }
            let high = min(m, 40) - 32
            return Self.bits(21, 13 + high)
        case .pae:
            let nx: UInt64 = noExecuteEnabled ? 0 : 1 << 63
            if level == 3 { return Self.bits(63, m) | Self.bits(8, 5) | Self.bits(2, 1) }
            var mask = Self.bits(62, m) | nx
            if level == 2 && leaf { mask |= Self.bits(20, 13) }
            return mask
        case .x86_64, .la57:
            var mask = Self.bits(51, m) | (noExecuteEnabled ? 0 : 1 << 63)
            if level >= 4 { mask |= EntryFlags.pageSize.rawValue }
            if leaf && level == 3 { mask |= Self.bits(29, 13) }
            if leaf && level == 2 { mask |= Self.bits(20, 13) }
            return mask
        }
    }

    /// The physical address an entry points to: the next table, or the page it maps.
    @inline(__always) public func address(of raw: UInt64, level: Int, leaf: Bool) -> UInt64 {
        switch mode {
        case .i386:
            let low = raw & 0xFFFF_F000
            guard leaf && level == 2 else { return low }
            return (raw & 0xFFC0_0000) | ((raw >> 13) & 0xFF) << 32
        case .pae, .x86_64, .la57:
            let all = tableAddressMask & raw
            guard leaf && level > 1 else { return all }
            return all & ~((1 << levelShifts[level]) - 1)
        }
    }

    /// An entry pointing to `address` with `flags` (PS is added for a large leaf).
    public func entry(address: UInt64, flags: EntryFlags, level: Int, leaf: Bool) -> UInt64 {
        var raw = flags.rawValue
        if leaf && level > 1 { raw |= EntryFlags.pageSize.rawValue }
        if mode == .i386 && leaf && level == 2 {
            return raw | (address & 0xFFC0_0000) | ((address >> 32) & 0xFF) << 13
        }
        return raw | address
    }

    /// The flag bits of `raw`, without the address.
    public func flags(of raw: UInt64, level: Int, leaf: Bool) -> EntryFlags {
        let large: UInt64 = leaf && level > 1 ? EntryFlags.largePAT.rawValue : 0
        let high: UInt64 = mode == .i386 ? 0 : 0xFFF0_0000_0000_0000
        return EntryFlags(rawValue: raw & (0xFFF | large | high))
    }

    /// Flags an entry may carry in this mode (NX only with PAE or long mode and EFER.NXE).
    public func validate(_ flags: EntryFlags) -> String? {
        if flags.contains(.noExecute) && !noExecuteEnabled { return "NX needs PAE or long mode" }
        if mode != .x86_64 && mode != .la57 && !flags.isDisjoint(with: [.availableHigh, .protectionKey]) {
            return "bits 52–62 exist only in long-mode entries"
        }
        if mode == .i386 && flags.rawValue >> 32 != 0 { return "32-bit entries have 32 bits" }
        return nil
    }

    /// The largest physical address an entry at `level` can hold (exclusive).
    public func addressLimit(level: Int, leaf: Bool) -> UInt64 {
        if mode == .i386 { return leaf && level == 2 ? 1 << UInt64(min(physicalAddressBits, 40)) : 1 << 32 }
        return 1 << UInt64(physicalAddressBits)
    }
}

/// An x86 paging mode.
public enum PagingMode: String, Sendable, CaseIterable, Codable {
    /// 32-bit 2-level paging: PGD (1024 entries) and PGT, 4-byte entries.
    case i386
    /// PAE: a 4-entry PDPT, then PD and PT with 512 8-byte entries.
    case pae
    /// 4-level long mode: PML4, PDPT, PD, PT; 48-bit virtual addresses.
    case x86_64
    /// 5-level long mode (LA57): PML5 above PML4; 57-bit virtual addresses.
    case la57

    /// Number of table levels; level 1 is the page table, level `levels` the root.
    public var levels: Int {
        switch self {
        case .i386: 2
        case .pae: 3
        case .x86_64: 4
        case .la57: 5
        }
    }

    /// Index bits used at `level` (1 = page table).
    public func indexBits(atLevel level: Int) -> Int {
        switch self {
        case .i386: 10
        case .pae: level == 3 ? 2 : 9
        case .x86_64, .la57: 9
        }
    }

    /// Entries in a table at `level`.
    public func entryCount(atLevel level: Int) -> Int { 1 << indexBits(atLevel: level) }

    /// Bytes per table entry.
    public var entrySize: Int { self == .i386 ? 4 : 8 }

    /// Width of a virtual address in bits (before sign extension).
    public var virtualAddressBits: Int {
        switch self {
        case .i386, .pae: 32
        case .x86_64: 48
        case .la57: 57
        }
    }

    /// Width of a physical address the entries can hold.
    public var physicalAddressBits: Int { self == .i386 ? 32 : 52 }

    /// Whether virtual addresses are sign-extended to 64 bits (long mode).
    public var isCanonicalSignExtended: Bool { self == .x86_64 || self == .la57 }

    /// The lowest bit of the virtual address that indexes `level`.
    public func shift(ofLevel level: Int) -> Int {
        var s = 12
        for l in 1..<level { s += indexBits(atLevel: l) }
        return s
    }

    /// The conventional name of the table at `level`, as the SDM and the paper use them.
    public func tableName(atLevel level: Int) -> String {
        switch (self, level) {
        case (.i386, 1), (.pae, 1), (.x86_64, 1), (.la57, 1): "PGT"
        case (.i386, 2), (.pae, 2), (.x86_64, 2), (.la57, 2): "PGD"
        case (.pae, 3), (.x86_64, 3), (.la57, 3): "PDPT"
        case (.x86_64, 4), (.la57, 4): "PML4"
        case (.la57, 5): "PML5"
        default: "L\(level)"
        }
    }

    /// Bytes mapped by one entry at `level` (the page size of a leaf there).
    public func bytesMapped(byEntryAtLevel level: Int) -> UInt64 { 1 << UInt64(shift(ofLevel: level)) }

    /// The default self-reference index: the last root slot, or for PAE the first of the four top PDEs.
    public var defaultSelfMapIndex: Int {
        switch self {
        case .i386: 1023
        case .pae: PagingMode.paeDefaultIndex
        case .x86_64, .la57: 511
        }
    }

    /// PAE's default: global PDE 2044 (PD 3, entries 508-511), so the tables sit in the top 8 MiB.
    public static let paeDefaultIndex = 2044
}

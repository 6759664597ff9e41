/// Reads page tables straight from physical memory, from a root address, without the self-map,
/// the TLB or accessed bits: the independent check on every result of ``Machine``.
public struct DirectWalker: Sendable {
    public let format: EntryFormat
    public let memory: PhysicalMemory

    public init(format: EntryFormat, memory: PhysicalMemory) {
        self.format = format
        self.memory = memory
    }

    /// One table entry on the way to a translation.
    public struct Step: Sendable, Hashable {
        public let level: Int
        public let index: Int
        /// The entry's physical address.
        public let entryAddress: UInt64
        public let raw: UInt64
    }

    /// The entries read for `va`, top-down, ending at a leaf, a non-present entry or a reserved bit.
    public func steps(root: UInt64, _ va: UInt64) -> [Step] {
        let mode = format.mode
        let width = UInt64(mode.virtualAddressBits)
        let bits = va & ((1 << width) - 1)
        var steps: [Step] = []
        var table = mode == .pae ? root & ~0x1F : root & ~0xFFF
        for level in stride(from: mode.levels, through: 1, by: -1) {
            let index = Int((bits >> format.levelShifts[level]) & format.indexMasks[level])
            let address = table + UInt64(index * mode.entrySize)
            let raw = mode.entrySize == 4 ? UInt64(memory.read32(address)) : memory.read64(address)
            steps.append(Step(level: level, index: index, entryAddress: address, raw: raw))
            let leaf = format.isLeaf(raw, level: level)
            if raw & 1 == 0 || raw & format.reservedMask(level: level, leaf: leaf) != 0 || leaf { break }
            table = format.address(of: raw, level: level, leaf: false)
        }
        return steps
    }

    /// The translation of `va` in the address space rooted at `root`, nil when it is not mapped.
    /// (The same walk as ``steps(root:_:)``, without building the path.)
    public func translate(root: UInt64, _ va: UInt64) throws(PagingError) -> Translation? {
        let mode = format.mode
        let bits = va & ((1 << UInt64(mode.virtualAddressBits)) - 1)
        var table = mode == .pae ? root & ~0x1F : root & ~0xFFF
        var writable = true, user = true, executable = true
        for level in stride(from: mode.levels, through: 1, by: -1) {
            let index = (bits >> format.levelShifts[level]) & format.indexMasks[level]
            let address = table + index * UInt64(mode.entrySize)
            let raw = mode.entrySize == 4 ? UInt64(memory.read32(address)) : memory.read64(address)
            guard raw & 1 != 0 else { return nil }
            let leaf = format.isLeaf(raw, level: level)
            guard raw & format.reservedMask(level: level, leaf: leaf) == 0 else {
                throw .reservedBitSet(VirtualAddress(va), level: level, entry: raw)
            }
            // PAE's PDPTEs carry no permissions.
            if !(mode == .pae && level == 3) {
                writable = writable && raw & 2 != 0
                user = user && raw & 4 != 0
                executable = executable && raw >> 63 == 0
            }
            if leaf {
                return Translation(va, leaf: raw, level: level, format: format, writable: writable, user: user, executable: executable)
            }
            table = format.address(of: raw, level: level, leaf: false)
        }
        return nil
    }

    /// Every table frame and every leaf reachable from `root`, skipping the entries `skip` says to
    /// (by level and raw value): the self-map's own entries.
    public func reachable(root: UInt64, skip: (Int, UInt64) -> Bool) -> (tables: [UInt64], leaves: [(address: UInt64, size: PageSize)]) {
        var tables: [UInt64] = [], leaves: [(UInt64, PageSize)] = []
        func visit(_ table: UInt64, level: Int) {
            tables.append(table)
            let count = level == format.mode.levels && format.mode == .pae ? 4 : format.mode.entryCount(atLevel: level)
            for index in 0..<count {
                let address = table + UInt64(index * format.mode.entrySize)
                let raw = format.mode.entrySize == 4 ? UInt64(memory.read32(address)) : memory.read64(address)
                guard raw & 1 != 0, !skip(level, raw) else { continue }
                let leaf = format.isLeaf(raw, level: level)
                if leaf {
                    leaves.append((format.address(of: raw, level: level, leaf: true), PageSize.at(level: level, in: format.mode) ?? .size4KiB))
                } else {
                    visit(format.address(of: raw, level: level, leaf: false), level: level - 1)
                }
            }
        }
        visit(format.mode == .pae ? root & ~0x1F : root, level: format.mode.levels)
        return (tables, leaves)
    }
}

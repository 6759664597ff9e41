/// One address space: the value CR3 holds, and for PAE its four page directories.
public struct AddressSpace: Sendable, Hashable {
    /// The root table (PAE: the PDPT, 32 bytes at the start of its frame).
    public let root: Frame
    /// PAE's four page directories; empty in the other modes.
    public let directories: [Frame]
}

/// How `map` finds the tables it needs.
public enum TableCreation: String, Sendable, CaseIterable {
    /// Read each level's entry through the self-map from the root down, creating missing tables.
    case topDown
    /// Write the leaf entry at its self-mapped address and let the page-fault handler create
    /// every missing table on the way (bottom-up, as the paper describes).
    case onFault
}

/// How `fork` copies user memory.
public enum ForkStrategy: String, Sendable, CaseIterable {
    /// A new frame for every user page, copied now.
    case eager
    /// Pages shared read-only and marked copy-on-write; the first write copies.
    case copyOnWrite
}

/// A simulated x86 machine with a small kernel: RAM, a frame allocator, the MMU and its TLB,
/// and address spaces whose tables the kernel reaches only through the self-map.
///
/// Every table access of `translate`, `map`, `unmap`, `updateFlags`, `fork` and `kill` is a load
/// or store at a virtual address, translated by the ``MMU``. Page faults go to a handler that
/// creates missing tables, demand-pages user memory and resolves copy-on-write. Only the boot
/// code that builds the first root table writes physical memory directly, as paging is off then.
public struct Machine: Sendable {
    public let selfMap: SelfMap
    /// The root slot (PAE: first of four global PDEs) where `fork` and `kill` map another space.
    public let windowSlot: Int
    public let format: EntryFormat
    /// Significant address bits at or above this are kernel space: shared by every address space.
    public let kernelBase: UInt64
    public private(set) var memory: PhysicalMemory
    public private(set) var frames: FrameAllocator
    public private(set) var mmu: MMU
    public private(set) var spaces: [AddressSpace]
    public private(set) var current: AddressSpace
    /// A user access to an unmapped user address gets a fresh zeroed page.
    public var demandPaging = true
    /// False models a kernel that forgets INVLPG after changing an entry (to show stale TLB entries).
    public var invalidatesTLB = true

    @usableFromInline let own: SelfMap.Addressing
    @usableFromInline let window: SelfMap.Addressing
    @usableFromInline let top: Int
    @usableFromInline let topCount: Int
    /// The lowest address bit that indexes the top level the self-map reaches (PAE: the PDs).
    let topShift: UInt64
    @usableFromInline let wide: Bool
    let scratch: UInt64

    /// Boots a machine with `frameCount` frames of RAM from `base`, and builds the first
    /// address space with its self-reference.
    public init(mode: PagingMode, selfMapIndex: Int? = nil, windowSlot: Int? = nil, frameCount: Int = 4096,
                base: UInt64 = 0x20_0000, physicalAddressBits: Int = 40, tlbCapacity: Int = 64,
                secondLevelTLBCapacity: Int = 2048) throws(PagingError) {
        do { selfMap = try SelfMap(mode: mode, index: selfMapIndex) } catch { throw .invalidConfiguration(error.description) }
        let step = mode == .pae ? 4 : 1
        let slot = windowSlot ?? (selfMap.index - step)
        let slots = mode == .pae ? 2048 : mode.entryCount(atLevel: mode.levels)
        guard slot >= 0, slot + step <= slots, slot % step == 0, abs(slot - selfMap.index) >= step else {
            throw .invalidConfiguration("window slot \(slot) must be a valid root slot\(mode == .pae ? " (a multiple of 4)" : "") other than the self-map's")
        }
        self.windowSlot = slot
        format = EntryFormat(mode: mode, physicalAddressBits: physicalAddressBits)
        kernelBase = mode == .i386 || mode == .pae ? 0xC000_0000 : 1 << UInt64(mode.virtualAddressBits - 1)
        own = selfMap.addressing()
        window = selfMap.addressing(slot: slot)
        top = mode == .pae ? 2 : mode.levels
        topCount = slots
        wide = mode != .i386
        topShift = UInt64(mode.shift(ofLevel: top))
        scratch = (UInt64(min(selfMap.index, slot)) << topShift) - 0x1000
        guard frameCount >= 8 else { throw .invalidConfiguration("a machine needs at least 8 frames") }
        guard base + UInt64(frameCount) << 12 <= format.addressLimit(level: 1, leaf: false) else {
            throw .invalidConfiguration("RAM must end below the \(mode.rawValue) table address limit")
        }
        memory = PhysicalMemory(base: base, frameCount: frameCount)
        frames = FrameAllocator(base: base, frameCount: frameCount)
        // Boot: paging is off, so the first tables are written physically.
        let selfFlags = format.kernelTableFlags
        let space: AddressSpace
        if mode == .pae {
            let pdpt = frames.allocate(.table)!
            var pds: [Frame] = []
            for _ in 0..<4 { pds.append(frames.allocate(.table)!) }
            for (k, pd) in pds.enumerated() {
                memory.write64(pdpt.address + UInt64(k * 8), pd.address | 1)
                let g = selfMap.index + k
                memory.write64(pds[g / 512].address + UInt64(g % 512 * 8), format.entry(address: pd.address, flags: selfFlags, level: 2, leaf: false))
            }
            space = AddressSpace(root: pdpt, directories: pds)
        } else {
            let root = frames.allocate(.table)!
            let raw = format.entry(address: root.address, flags: selfFlags, level: mode.levels, leaf: false)
            if wide { memory.write64(root.address + UInt64(selfMap.index * 8), raw) } else { memory.write32(root.address + UInt64(selfMap.index * 4), UInt32(raw)) }
            space = AddressSpace(root: root, directories: [])
        }
        spaces = [space]
        current = space
        mmu = MMU(format: format, cr3: space.root.address, tlbCapacity: tlbCapacity, secondLevelTLBCapacity: secondLevelTLBCapacity)
    }

    public var mode: PagingMode { selfMap.mode }

    /// The independent walker over this machine's RAM.
    public var directWalker: DirectWalker { DirectWalker(format: format, memory: memory) }

    // MARK: Kernel loads and stores through the MMU

    /// The address bits that index the tables; an address that is not their canonical form
    /// (or, in the 32-bit modes, that has bits above them) is an error.
    @inline(__always) func significant(_ va: UInt64) throws(PagingError) -> UInt64 {
        let sig = va & mmu.significantMask
        guard own.canonical(sig) == va else { throw .nonCanonical(va) }
        return sig
    }

    /// Loads the entry at virtual address `va` as the kernel (supervisor read).
    @inline(__always) public mutating func loadEntry(at va: UInt64) throws(PagingError) -> UInt64 {
        let pa: UInt64
        switch mmu.cachedAccess(va, .kernelRead, memory: memory) {
        case .word(let word, _):
            let value = memory[word: word]
            return wide ? value : value >> (va & 4 &* 8) & 0xFFFF_FFFF
        case .physical(let address): pa = address
        case .miss: pa = try walkedAddress(va, .kernelRead)
        }
        return wide ? memory.read64(pa) : UInt64(memory.read32(pa))
    }

    /// Stores an entry at virtual address `va` as the kernel (supervisor write).
    public mutating func storeEntry(_ raw: UInt64, at va: UInt64) throws(PagingError) {
        let pa: UInt64
        switch mmu.cachedAccess(va, .kernelWrite, memory: memory) {
        case .word(let word, _):
            if wide {
                memory[word: word] = raw
            } else {
                let shift = va & 4 &* 8
                memory[word: word] = memory[word: word] & ~(0xFFFF_FFFF << shift) | (raw & 0xFFFF_FFFF) << shift
            }
            return
        case .physical(let address): pa = address
        case .miss: pa = try walkedAddress(va, .kernelWrite)
        }
        if wide { memory.write64(pa, raw) } else { memory.write32(pa, UInt32(truncatingIfNeeded: raw)) }
    }

    /// The physical address of `va` by a page walk, after both TLBs missed; a fault is an error.
    mutating func walkedAddress(_ va: UInt64, _ access: Access) throws(PagingError) -> UInt64 {
        switch mmu.walk(va, access, memory: &memory) {
        case .success(let walk): return walk.physicalAddress
        case .failure(let fault): throw .pageFault(fault)
        }
    }

    /// INVLPG, unless this kernel forgets it (see ``invalidatesTLB``).
    public mutating func invalidate(_ va: UInt64) {
        if invalidatesTLB { invalidatePage(va) }
    }

    /// INVLPG: drops the page holding `va` from both TLBs.
    public mutating func invalidatePage(_ va: UInt64) {
        mmu.invalidate(page: va)
    }

    /// The kernel's TLB flush after it changes the window (skipped when it forgets invalidations).
    mutating func kernelFlush() {
        if invalidatesTLB { mmu.flush() }
    }

    /// Flushes both TLBs, as a CR3 reload (or with global entries, a CR4.PGE toggle) does.
    public mutating func flushTLB(includingGlobal: Bool = false) {
        mmu.flush(includingGlobal: includingGlobal)
    }

    mutating func allocateTable() throws(PagingError) -> Frame {
        guard let frame = frames.allocate(.table) else { throw .outOfFrames }
        return frame
    }

    /// Zeroes a table through its virtual address.
    mutating func zeroTable(at va: UInt64) throws(PagingError) {
        let step = UInt64(mode.entrySize)
        var offset: UInt64 = 0
        while offset < 4096 { try storeEntry(0, at: va + offset); offset += step }
    }

    /// The flags for tables above a page at `sig`: user space tables are user-accessible.
    func tableFlags(for sig: UInt64) -> EntryFlags {
        sig >= kernelBase ? [.present, .writable] : [.present, .writable, .user]
    }

    /// The bits of a leaf entry at `leafLevel` that are flags rather than address.
    func allowedFlagBits(leafLevel: Int) -> UInt64 {
        0xFFF | (leafLevel > 1 ? EntryFlags.largePAT.rawValue : 0) | (wide ? 0xFFF0_0000_0000_0000 : 0)
    }

    func isReservedRegion(_ sig: UInt64) -> Bool { own.contains(sig) || window.contains(sig) }

    // MARK: Fault handling

    /// Runs `access` to the self-mapped address `va`, letting the fault handler create each
    /// missing table on the way and retrying.
    mutating func creatingTables<T>(at va: UInt64, tableFlags: EntryFlags,
                                    _ access: (inout Machine) throws(PagingError) -> T) throws(PagingError) -> T {
        for _ in 0...mode.levels {
            do { return try access(&self) } catch {
                guard case .pageFault(let fault) = error else { throw error }
                try createMissingTable(fault, tableFlags: tableFlags)
            }
        }
        throw .invalidConfiguration("fault handling did not converge at \(VirtualAddress(va))")
    }

    /// Loads with faults handled: missing tables on the way to a self-mapped address are created.
    mutating func loadEntryCreatingTables(at va: UInt64, tableFlags: EntryFlags) throws(PagingError) -> UInt64 {
        try creatingTables(at: va, tableFlags: tableFlags) { (m) throws(PagingError) in try m.loadEntry(at: va) }
    }

    mutating func storeEntryCreatingTables(_ raw: UInt64, at va: UInt64, tableFlags: EntryFlags) throws(PagingError) {
        try creatingTables(at: va, tableFlags: tableFlags) { (m) throws(PagingError) in try m.storeEntry(raw, at: va) }
    }

    /// The page-fault handler's table path: the fault hit the self-map region, so the table at
    /// the faulting page is missing. Allocate it, store its entry at the self-mapped address of
    /// that entry (which may fault in turn, recursively up to the root), and zero it.
    mutating func createMissingTable(_ fault: PageFault, tableFlags: EntryFlags) throws(PagingError) {
        let sig = try significant(fault.address)
        guard !fault.protectionViolation, own.contains(sig) else { throw .pageFault(fault) }
        let frame = try allocateTable()
        let entry = format.entry(address: frame.address, flags: tableFlags, level: 2, leaf: false)
        try storeEntryCreatingTables(entry, at: own.entryAddress(sig, level: 1), tableFlags: tableFlags)
        try zeroTable(at: fault.address & ~0xFFF)
    }

    // MARK: Operations

    /// The leaf entry for `va`, found top-down through the self-map, with the permissions of
    /// every level combined; nil when some level is not present.
    struct Leaf {
        var level: Int
        /// The entry's self-mapped address.
        var at: UInt64
        var raw: UInt64
        var writable = true, user = true, executable = true

        func translation(of va: UInt64, _ format: EntryFormat) -> Translation {
            Translation(va, leaf: raw, level: level, format: format, writable: writable, user: user, executable: executable)
        }
    }

    mutating func findLeaf(_ va: UInt64, sig: UInt64) throws(PagingError) -> Leaf? {
        var found = Leaf(level: top, at: 0, raw: 0)
        while true {
            found.at = own.entryAddress(sig, level: found.level)
            found.raw = try loadEntry(at: found.at)
            let raw = found.raw, level = found.level
            if raw & 1 == 0 { return nil }
            let leaf = format.isLeaf(raw, level: level)
            if raw & format.reservedMask(level: level, leaf: leaf) != 0 {
                throw .reservedBitSet(VirtualAddress(va), level: level, entry: raw)
            }
            found.writable = found.writable && raw & 2 != 0
            found.user = found.user && raw & 4 != 0
            found.executable = found.executable && raw >> 63 == 0
            if leaf { return found }
            found.level -= 1
        }
    }

    /// Translates `va` the way the kernel does: reads each level's entry through the self-map.
    public mutating func translate(_ va: UInt64) throws(PagingError) -> Translation? {
        let sig = try significant(va)
        return try findLeaf(va, sig: sig).map { $0.translation(of: va, format) }
    }

    /// Maps the page at `va` to `pa`, memory outside the RAM the frame allocator manages (a
    /// device, firmware, the boot image). `flags` need not include `.present`.
    public mutating func map(_ va: UInt64, to pa: UInt64, size: PageSize = .size4KiB, flags: EntryFlags = [.writable],
                             tables: TableCreation = .topDown) throws(PagingError) {
        try install(va, to: pa, size: size, flags: flags, tables: tables, allocatedFrame: false)
    }

    /// `map`; `allocatedFrame` lets the kernel map a frame it allocated (RAM) to itself.
    mutating func install(_ va: UInt64, to pa: UInt64, size: PageSize = .size4KiB, flags: EntryFlags,
                          tables: TableCreation = .topDown, allocatedFrame: Bool) throws(PagingError) {
        guard let leafLevel = size.level(in: mode) else { throw .unsupportedPageSize(size, mode) }
        guard va & (size.bytes - 1) == 0 else { throw .misaligned(va, size) }
        guard pa & (size.bytes - 1) == 0 else { throw .misaligned(pa, size) }
        guard pa < format.addressLimit(level: leafLevel, leaf: true) else { throw .physicalAddressTooWide(pa) }
        // RAM belongs to the frame allocator: a page mapped into it by address could later be
        // handed out as a table. Programs get RAM through demand paging (touch).
        guard allocatedFrame || pa + size.bytes <= memory.base || pa >= memory.end else { throw .managedMemory(pa) }
        if let problem = format.validate(flags) { throw .invalidFlags(problem) }
        if flags.rawValue & ~allowedFlagBits(leafLevel: leafLevel) != 0 { throw .invalidFlags("bits 0x\(String(flags.rawValue & ~allowedFlagBits(leafLevel: leafLevel), radix: 16)) hold the address") }
        let sig = try significant(va)
        guard !isReservedRegion(sig) else { throw .selfMapRegion(VirtualAddress(va)) }
        let intermediate = tableFlags(for: sig)
        var leafFlags = flags.union(.present)
        if leafLevel > 1 { leafFlags.remove(.pageSize) }
        let leafRaw = format.entry(address: pa, flags: leafFlags, level: leafLevel, leaf: true)
        let entryVA = own.entryAddress(sig, level: leafLevel)
        switch tables {
        case .topDown:
            var level = top
            while level > leafLevel {
                let at = own.entryAddress(sig, level: level)
                let raw = try loadEntry(at: at)
                if raw & 1 == 0 {
                    let frame = try allocateTable()
                    try storeEntry(format.entry(address: frame.address, flags: intermediate, level: level, leaf: false), at: at)
                    try zeroTable(at: own.tableAddress(sig, level: level - 1))
                } else if format.isLeaf(raw, level: level) {
                    throw .hugePageInTheWay(VirtualAddress(va), level: level)
                } else if raw & format.reservedMask(level: level, leaf: false) != 0 {
                    throw .reservedBitSet(VirtualAddress(va), level: level, entry: raw)
                } else if raw & intermediate.rawValue != intermediate.rawValue {
                    try storeEntry(raw | intermediate.rawValue, at: at)
                }
                level -= 1
            }
            if try loadEntry(at: entryVA) & 1 != 0 { throw .alreadyMapped(VirtualAddress(va)) }
        case .onFault:
            let existing = try loadEntryCreatingTables(at: entryVA, tableFlags: intermediate)
            // The walk to a self-mapped entry must end at a 4 KiB page; a large leaf above the
            // entry ends it earlier or makes its last step a large page's first frame.
            if case .success(let walk) = mmu.walk(entryVA, .kernelRead, memory: &memory) {
                if walk.level > 1 { throw .hugePageInTheWay(VirtualAddress(va), level: leafLevel + walk.level) }
                if walk.leaf & EntryFlags.pageSize.rawValue != 0 && format.allowsLargePage(atLevel: leafLevel + 1) {
                    throw .hugePageInTheWay(VirtualAddress(va), level: leafLevel + 1)
                }
            }
            if existing & 1 != 0 { throw .alreadyMapped(VirtualAddress(va)) }
        }
        try storeEntry(leafRaw, at: entryVA)
    }

    /// The leaf entry for `va`: (level, its self-mapped address, its value); not mapped is an error.
    mutating func leafEntry(_ va: UInt64, sig: UInt64) throws(PagingError) -> (level: Int, at: UInt64, raw: UInt64) {
        guard let leaf = try findLeaf(va, sig: sig) else { throw .notMapped(VirtualAddress(va)) }
        return (leaf.level, leaf.at, leaf.raw)
    }

    /// Unmaps the page that starts at `va` and frees every table that becomes empty. Returns
    /// what was mapped. A data frame this kernel allocated (demand paging, copy-on-write) is freed.
    @discardableResult
    public mutating func unmap(_ va: UInt64) throws(PagingError) -> Translation {
        let sig = try significant(va)
        guard !isReservedRegion(sig) else { throw .selfMapRegion(VirtualAddress(va)) }
        guard let leaf = try findLeaf(va, sig: sig) else { throw .notMapped(VirtualAddress(va)) }
        let translation = leaf.translation(of: va, format)
        let (level, at, raw) = (leaf.level, leaf.at, leaf.raw)
        guard va & (translation.pageSize.bytes - 1) == 0 else { throw .misaligned(va, translation.pageSize) }
        try storeEntry(0, at: at)
        invalidate(va)
        let frame = Frame(address: format.address(of: raw, level: level, leaf: true) & ~0xFFF)
        if frames.use(of: frame) == .data { frames.release(frame) }
        try freeEmptyTables(above: level, sig: sig)
        return translation
    }

    /// Frees the level-`level` table for `sig` if it has no present entry, then the one above.
    /// Tables whose parent is the root in kernel space stay: every address space shares them.
    mutating func freeEmptyTables(above leafLevel: Int, sig: UInt64) throws(PagingError) {
        var level = leafLevel
        while level < top {
            if sig >= kernelBase && level == top - 1 { return }
            let table = own.tableAddress(sig, level: level)
            let count = mode.entryCount(atLevel: level)
            let start = Int((sig >> UInt64(mode.shift(ofLevel: level))) & UInt64(count - 1))
            let step = UInt64(mode.entrySize)
            // Neighbours first: after sequential unmaps the next entry is the likely survivor.
            for k in 1..<count {
                let i = (start + k) % count
                if try loadEntry(at: table + UInt64(i) * step) & 1 != 0 { return }
            }
            let parent = own.entryAddress(sig, level: level + 1)
            let raw = try loadEntry(at: parent)
            try storeEntry(0, at: parent)
            invalidate(table)
            frames.release(Frame(address: format.address(of: raw, level: level + 1, leaf: false)))
            level += 1
        }
    }

    /// Sets and clears flags on the page that contains `va` (not P, PS or the address).
    public mutating func updateFlags(_ va: UInt64, set: EntryFlags = [], clear: EntryFlags = []) throws(PagingError) {
        let sig = try significant(va)
        guard !isReservedRegion(sig) else { throw .selfMapRegion(VirtualAddress(va)) }
        if let problem = format.validate(set) { throw .invalidFlags(problem) }
        guard set.union(clear).isDisjoint(with: [.present, .pageSize]) else { throw .invalidFlags("P and PS cannot be updated") }
        let (level, at, raw) = try leafEntry(va, sig: sig)
        if (set.rawValue | clear.rawValue) & ~allowedFlagBits(leafLevel: level) != 0 { throw .invalidFlags("address bits cannot be updated") }
        try storeEntry((raw | set.rawValue) & ~clear.rawValue, at: at)
        invalidate(va)
    }

    // MARK: Data accesses

    /// Performs an access at `va` as a program would, resolving page faults (missing tables,
    /// demand paging of user memory, copy-on-write). Returns the physical address used.
    @discardableResult
    public mutating func touch(_ va: UInt64, _ access: Access = Access(user: true)) throws(PagingError) -> UInt64 {
        let sig = try significant(va)
        for _ in 0...(mode.levels + 2) {
            switch mmu.translate(va, access, memory: &memory) {
            case .success(let pa): return pa
            case .failure(let fault): try handle(fault, sig: sig)
            }
        }
        throw .invalidConfiguration("fault handling did not converge at \(VirtualAddress(va))")
    }

    /// Reads 8 bytes at `va` (8-byte aligned) as a user program.
    public mutating func load(_ va: UInt64, user: Bool = true) throws(PagingError) -> UInt64 {
        memory.read64(try touch(va & ~7, Access(user: user)))
    }

    /// Writes 8 bytes at `va` (8-byte aligned) as a user program.
    public mutating func store(_ value: UInt64, at va: UInt64, user: Bool = true) throws(PagingError) {
        memory.write64(try touch(va & ~7, Access(write: true, user: user)), value)
    }

    mutating func handle(_ fault: PageFault, sig: UInt64) throws(PagingError) {
        if fault.reservedBit {
            let path = directWalker.steps(root: mmu.cr3, fault.address)
            throw .reservedBitSet(VirtualAddress(fault.address), level: fault.level, entry: path.last?.raw ?? 0)
        }
        if !fault.protectionViolation {
            if own.contains(sig) && !fault.user { return try createMissingTable(fault, tableFlags: [.present, .writable]) }
            guard demandPaging, fault.user, sig < kernelBase, !isReservedRegion(sig) else { throw .pageFault(fault) }
            guard let frame = frames.allocate(.data) else { throw .outOfFrames }
            memory.zero(frame)
            var flags: EntryFlags = [.present, .writable, .user]
            if format.noExecuteEnabled && !fault.instructionFetch { flags.insert(.noExecute) }
            let raw = format.entry(address: frame.address, flags: flags, level: 1, leaf: true)
            try storeEntryCreatingTables(raw, at: own.entryAddress(sig, level: 1), tableFlags: tableFlags(for: sig))
            return
        }
        guard fault.write else { throw .pageFault(fault) }
        let (level, at, raw) = try leafEntry(fault.address, sig: sig)
        guard level == 1, raw & EntryFlags.copyOnWrite.rawValue != 0 else { throw .pageFault(fault) }
        let frame = Frame(address: format.address(of: raw, level: 1, leaf: true))
        let flags = (raw & ~frame.address & ~EntryFlags.copyOnWrite.rawValue) | EntryFlags.writable.rawValue
        if frames.referenceCount(of: frame) <= 1 {
            try storeEntry(flags | frame.address, at: at)
        } else {
            guard let copy = frames.allocate(.data) else { throw .outOfFrames }
            memory.copy(frame, to: copy)
            try storeEntry(flags | copy.address, at: at)
            frames.release(frame)
        }
        invalidate(fault.address)
    }

    // MARK: Address spaces

    /// Makes `space` current (loads CR3).
    public mutating func switchTo(_ space: AddressSpace) throws(PagingError) {
        guard spaces.contains(space) else { throw .noSuchAddressSpace }
        current = space
        mmu.load(cr3: space.root.address)
    }

    /// The root slots of user space: entries below the kernel base (PAE: global PDE numbers).
    var userSlots: Range<Int> { 0..<Int(kernelBase >> topShift) }

    func topSig(_ slot: Int) -> UInt64 { UInt64(slot) << topShift }

    func isSpecialSlot(_ slot: Int) -> Bool {
        let step = mode == .pae ? 4 : 1
        return (selfMap.index..<selfMap.index + step).contains(slot) || (windowSlot..<windowSlot + step).contains(slot)
    }

    /// Points the window slot at `space`'s top tables, and flushes what the window showed before.
    mutating func openWindow(_ space: AddressSpace) throws(PagingError) {
        let tops = mode == .pae ? space.directories : [space.root]
        for (k, frame) in tops.enumerated() {
            try storeEntry(format.entry(address: frame.address, flags: format.kernelTableFlags, level: top, leaf: false),
                           at: own.entryAddress(topSig(windowSlot + k), level: top))
        }
        kernelFlush()
    }

    mutating func closeWindow() throws(PagingError) {
        for k in 0..<(mode == .pae ? 4 : 1) { try storeEntry(0, at: own.entryAddress(topSig(windowSlot + k), level: top)) }
        kernelFlush()
    }

    /// Maps `frame` at the kernel's scratch page for the duration of `body` (PAE fork only).
    mutating func withScratch(_ frame: Frame, _ body: (inout Machine, UInt64) throws(PagingError) -> Void) throws(PagingError) {
        try install(scratch, to: frame.address, flags: [.writable], allocatedFrame: true)
        try body(&self, scratch)
        let at = own.entryAddress(scratch, level: 1)
        try storeEntry(0, at: at)
        invalidate(scratch)
    }

    /// Creates a child of the current address space: kernel space shared, user space copied.
    /// A fork that fails (out of frames) frees whatever of the child it had built.
    public mutating func fork(_ strategy: ForkStrategy) throws(PagingError) -> AddressSpace {
        var built: [Frame] = []
        var windowOpen = false
        do {
            return try fork(strategy, built: &built, windowOpen: &windowOpen)
        } catch {
            if windowOpen {
                // The child's tables are consistent at every step: each present entry points to
                // a table or a page that is accounted for.
                try? freeWindowUserSpace()
                try? closeWindow()
            }
            for frame in built { frames.release(frame) }
            throw error
        }
    }

    mutating func fork(_ strategy: ForkStrategy, built: inout [Frame], windowOpen: inout Bool) throws(PagingError) -> AddressSpace {
        let child: AddressSpace
        let selfFlags = format.kernelTableFlags
        if mode == .pae {
            let pdpt = try allocateTable()
            built.append(pdpt)
            var pds: [Frame] = []
            for _ in 0..<4 {
                let pd = try allocateTable()
                built.append(pd)
                pds.append(pd)
            }
            child = AddressSpace(root: pdpt, directories: pds)
            try withScratch(pdpt) { (m, va) throws(PagingError) in
                try m.zeroTable(at: va)
                for k in 0..<4 { try m.storeEntry(pds[k].address | 1, at: va + UInt64(k * 8)) }
            }
            // Each PD: kernel PDEs copied from the parent, the self-map PDEs in their place.
            for k in 0..<4 {
                let parentSlots = (k * 512)..<(k * 512 + 512)
                var entries: [(Int, UInt64)] = []
                for g in parentSlots where g >= userSlots.upperBound && !isSpecialSlot(g) {
                    let raw = try loadEntry(at: own.entryAddress(topSig(g), level: 2))
                    if raw & 1 != 0 { entries.append((g % 512, raw)) }
                }
                try withScratch(pds[k]) { (m, va) throws(PagingError) in
                    try m.zeroTable(at: va)
                    for (i, raw) in entries { try m.storeEntry(raw, at: va + UInt64(i * 8)) }
                    for j in 0..<4 where (m.selfMap.index + j) / 512 == k {
                        let i = (m.selfMap.index + j) % 512
                        try m.storeEntry(m.format.entry(address: pds[j].address, flags: selfFlags, level: 2, leaf: false), at: va + UInt64(i * 8))
                    }
                }
            }
            try openWindow(child)
            windowOpen = true
        } else {
            let root = try allocateTable()
            built.append(root)
            child = AddressSpace(root: root, directories: [])
            try openWindow(child)
            windowOpen = true
            let childRoot = window.tableAddress(0, level: top)
            try zeroTable(at: childRoot)
            for slot in userSlots.upperBound..<topCount where !isSpecialSlot(slot) {
                let raw = try loadEntry(at: own.entryAddress(topSig(slot), level: top))
                if raw & 1 != 0 { try storeEntry(raw, at: window.entryAddress(topSig(slot), level: top)) }
            }
            try storeEntry(format.entry(address: root.address, flags: selfFlags, level: top, leaf: false),
                           at: window.entryAddress(topSig(selfMap.index), level: top))
        }
        for slot in userSlots where !isSpecialSlot(slot) {
            try copyEntry(level: top, sig: topSig(slot), strategy)
        }
        try closeWindow()
        spaces.append(child)
        return child
    }

    /// Copies the entry at `level` for `sig` from the current space to the window's space.
    mutating func copyEntry(level: Int, sig: UInt64, _ strategy: ForkStrategy) throws(PagingError) {
        let source = own.entryAddress(sig, level: level)
        let raw = try loadEntry(at: source)
        guard raw & 1 != 0 else { return }
        let destination = window.entryAddress(sig, level: level)
        guard !format.isLeaf(raw, level: level) else {
            let frame = Frame(address: format.address(of: raw, level: level, leaf: true) & ~0xFFF)
            guard level == 1, frames.use(of: frame) == .data else {
                // Large pages and memory this kernel did not allocate (devices) are shared as they are.
                return try storeEntry(raw, at: destination)
            }
            switch strategy {
            case .eager:
                guard let copy = frames.allocate(.data) else { throw .outOfFrames }
                memory.copy(frame, to: copy)
                try storeEntry((raw & ~frame.address) | copy.address, at: destination)
            case .copyOnWrite:
                var shared = raw
                if raw & EntryFlags.writable.rawValue != 0 {
                    shared = (raw & ~EntryFlags.writable.rawValue) | EntryFlags.copyOnWrite.rawValue
                    try storeEntry(shared, at: source)
                    invalidate(own.canonical(sig))
                }
                frames.retain(frame)
                try storeEntry(shared, at: destination)
            }
            return
        }
        let table = try allocateTable()
        let flags = raw & 0xFFF & ~(EntryFlags.accessed.rawValue | EntryFlags.dirty.rawValue)
        try storeEntry(format.entry(address: table.address, flags: EntryFlags(rawValue: flags), level: level, leaf: false), at: destination)
        try zeroTable(at: window.tableAddress(sig, level: level - 1))
        let shift = UInt64(mode.shift(ofLevel: level - 1))
        for i in 0..<mode.entryCount(atLevel: level - 1) {
            try copyEntry(level: level - 1, sig: sig | UInt64(i) << shift, strategy)
        }
    }

    /// Frees every frame of `space` that is not shared: user tables, data pages (dropping one
    /// reference of each shared page), and its root. Kernel tables stay; they are shared.
    public mutating func kill(_ space: AddressSpace) throws(PagingError) {
        guard let position = spaces.firstIndex(of: space) else { throw .noSuchAddressSpace }
        guard space != current else { throw .addressSpaceInUse }
        try openWindow(space)
        try freeWindowUserSpace()
        try closeWindow()
        for frame in space.directories { frames.release(frame) }
        frames.release(space.root)
        spaces.remove(at: position)
    }

    /// Frees the user tables and pages of the space the window shows.
    mutating func freeWindowUserSpace() throws(PagingError) {
        for slot in userSlots where !isSpecialSlot(slot) { try freeEntry(level: top, sig: topSig(slot)) }
    }

    mutating func freeEntry(level: Int, sig: UInt64) throws(PagingError) {
        let raw = try loadEntry(at: window.entryAddress(sig, level: level))
        guard raw & 1 != 0 else { return }
        let leaf = format.isLeaf(raw, level: level)
        let frame = Frame(address: format.address(of: raw, level: level, leaf: leaf) & ~0xFFF)
        if leaf {
            if frames.use(of: frame) == .data { frames.release(frame) }
            return
        }
        let shift = UInt64(mode.shift(ofLevel: level - 1))
        for i in 0..<mode.entryCount(atLevel: level - 1) {
            try freeEntry(level: level - 1, sig: sig | UInt64(i) << shift)
        }
        frames.release(frame)
    }

    // MARK: Accounting

    /// What a walk of every live address space finds, against what the allocator says.
    public struct Audit: Sendable, Hashable {
        public var accounting: FrameAccounting
        /// Table frames the allocator holds that no address space reaches (a leak).
        public var unreachableTables: [Frame] = []
        /// Frames used as tables that the allocator thinks are free or data.
        public var misusedTables: [Frame] = []
        /// Data frames whose reference count differs from the mappings found.
        public var referenceMismatches: [Frame] = []
        /// Data frames the allocator holds that nothing maps (a leak).
        public var unreachableData: [Frame] = []

        public var isClean: Bool {
            accounting.balances && unreachableTables.isEmpty && misusedTables.isEmpty && referenceMismatches.isEmpty && unreachableData.isEmpty
        }
    }

    /// Walks every address space physically (with ``DirectWalker``) and proves that every
    /// allocated frame is reachable and every shared page's count matches its mappings.
    public func audit() -> Audit {
        let walker = directWalker
        let topFrames = Set(spaces.flatMap { mode == .pae ? $0.directories : [$0.root] }.map(\.address))
        var tables = Set<UInt64>(), references: [UInt64: Int] = [:]
        for space in spaces {
            let found = walker.reachable(root: space.root.address) { level, raw in
                level == top && topFrames.contains(format.address(of: raw, level: level, leaf: false))
            }
            tables.formUnion(found.tables)
            for leaf in found.leaves where frames.use(of: Frame(address: leaf.address & ~0xFFF)) == .data {
                references[leaf.address & ~0xFFF, default: 0] += 1
            }
        }
        var audit = Audit(accounting: frames.accounting)
        for n in 0..<frames.frameCount {
            let frame = Frame(address: frames.base + UInt64(n) << 12)
            switch frames.use(of: frame) {
            case .table: if !tables.contains(frame.address) { audit.unreachableTables.append(frame) }
            case .data:
                let count = references[frame.address] ?? 0
                if count == 0 { audit.unreachableData.append(frame) } else if count != frames.referenceCount(of: frame) { audit.referenceMismatches.append(frame) }
            case .free: break
            }
            if tables.contains(frame.address) && frames.use(of: frame) != .table { audit.misusedTables.append(frame) }
        }
        return audit
    }
}

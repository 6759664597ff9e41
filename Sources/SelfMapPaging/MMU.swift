/// What a memory access wants.
public struct Access: Sendable, Hashable {
    public var write: Bool
    public var user: Bool
    public var execute: Bool
    public init(write: Bool = false, user: Bool = false, execute: Bool = false) {
        self.write = write
        self.user = user
        self.execute = execute
    }
    public static let kernelRead = Access()
    public static let kernelWrite = Access(write: true)
}

/// A #PF as the CPU reports it: the faulting address (CR2) and the error code's bits.
public struct PageFault: Error, Sendable, Hashable, CustomStringConvertible {
    public let address: UInt64
    /// Error code bit 0: the page was present and the access broke its protection.
    public let protectionViolation: Bool
    public let write: Bool
    public let user: Bool
    /// Error code bit 3: a reserved bit was set in an entry.
    public let reservedBit: Bool
    public let instructionFetch: Bool
    /// The level of the entry where the walk stopped.
    public let level: Int

    public var errorCode: UInt32 {
        (protectionViolation ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0) | (reservedBit ? 8 : 0) | (instructionFetch ? 16 : 0)
    }

    public var description: String {
        let kind = reservedBit ? "reserved bit set" : protectionViolation ? "protection violation" : "not present"
        return "#PF at 0x\(String(address, radix: 16)) (\(kind), \(write ? "write" : instructionFetch ? "fetch" : "read"), \(user ? "user" : "supervisor"), level \(level), error code 0x\(String(errorCode, radix: 16)))"
    }
}

/// A completed translation.
public struct Translation: Sendable, Hashable, Codable {
    public let virtualAddress: VirtualAddress
    public let physicalAddress: UInt64
    public let pageSize: PageSize
    /// The level of the leaf entry.
    public let level: Int
    /// The leaf entry's flags.
    public let flags: EntryFlags
    /// The permissions of all levels combined.
    public let writable: Bool
    public let user: Bool
    public let executable: Bool
}

extension Translation {
    /// The translation of `va` by the leaf entry `raw` at `level`, with the combined permissions.
    init(_ va: UInt64, leaf raw: UInt64, level: Int, format: EntryFormat, writable: Bool, user: Bool, executable: Bool) {
        let size = PageSize(rawValue: 1 << format.levelShifts[level]) ?? .size4KiB
        self.init(virtualAddress: VirtualAddress(va),
                  physicalAddress: format.address(of: raw, level: level, leaf: true) | (va & (size.bytes - 1)),
                  pageSize: size, level: level, flags: format.flags(of: raw, level: level, leaf: true),
                  writable: writable, user: user, executable: executable)
    }
}

/// A data TLB: `capacity` translations in sets of four ways (as x86 L1 DTLBs are). Replacement
/// is pseudo-LRU with a "recently used" bit per way, a policy common in hardware (x86 does not
/// document its own): a full set evicts its first way not used since the set's bits were last
/// reset, which happens when the last of them is set. Large pages are cached per 4 KiB piece, so
/// `invalidate(page:)` drops every piece of the page that contains the address.
///
/// Like QEMU's software TLB, an entry also remembers where its frame's bytes live in the
/// simulator's ``PhysicalMemory``, so a hit costs no physical-address lookup.
public struct TLB: Sendable {
    /// The largest capacity: 1,024 sets of four ways.
    public static let maximumCapacity = 4096
    public let capacity: Int
    /// Ways per set: 4, or the capacity when it is smaller.
    public let ways: Int
    /// Four slots per set; those past `ways` stay empty.
    @usableFromInline var entries: [Entry]
    /// Per set: a bit per way used since the last reset. Inline, so that marking a way is a
    /// plain store rather than an array's copy-on-write check.
    @usableFromInline var recentlyUsed: InlineArray<1024, UInt8>
    @usableFromInline let setMask: Int
    /// A bit for each of a set's `ways`.
    @usableFromInline let allWays: UInt8
    public internal(set) var hits = 0
    public internal(set) var misses = 0
    /// Whether a piece of a large page may be cached (so INVLPG must look beyond one set).
    var mayHoldLargePages = false

    /// A cached translation.
    @usableFromInline struct Entry: Sendable {
        /// The page number + 1; 0 when the slot is empty.
        @usableFromInline var tag: UInt64
        /// The frame, with ``Permission`` bits and the page shift in its low 12 bits.
        @usableFromInline var frame: UInt64
        /// The frame's first word in the memory's storage, or -1 if it had none when looked up.
        @usableFromInline var hostWord: Int

        init(tag: UInt64, frame: UInt64, hostWord: Int) {
            self.tag = tag
            self.frame = frame
            self.hostWord = hostWord
        }

        init(page vpn: UInt64, frame: UInt64, permissions: UInt64, pageShift: Int, hostWord: Int) {
            self.init(tag: vpn &+ 1, frame: frame | permissions | UInt64(pageShift) << Permission.pageShiftPosition, hostWord: hostWord)
        }
    }

    /// What a cached translation allows, as bits beside its frame.
    @usableFromInline enum Permission {
        @usableFromInline static let writable: UInt64 = 1, user: UInt64 = 2, executable: UInt64 = 4
        @usableFromInline static let global: UInt64 = 8, dirty: UInt64 = 16
        @usableFromInline static let pageShiftPosition: UInt64 = 5

        /// The bits `access` needs (a write also needs the dirty bit set, or the walk must set it).
        static func needed(for access: Access) -> UInt64 {
            (access.write ? writable | dirty : 0) | (access.user ? user : 0) | (access.execute ? executable : 0)
        }
    }

    /// `capacity` must be 0 (no TLB) or a power of two up to ``maximumCapacity``.
    public init(capacity: Int = 64) {
        precondition(capacity == 0 || capacity & (capacity - 1) == 0, "TLB capacity is a power of two")
        precondition(capacity <= Self.maximumCapacity, "TLB capacity is at most \(Self.maximumCapacity)")
        self.capacity = capacity
        ways = min(4, capacity)
        let sets = capacity == 0 ? 0 : capacity / ways
        setMask = max(sets - 1, 0)
        allWays = UInt8(truncatingIfNeeded: (1 << ways) - 1)
        entries = Array(repeating: Entry(tag: 0, frame: 0, hostWord: -1), count: sets * 4)
        recentlyUsed = InlineArray(repeating: 0)
    }

    /// Entries currently valid.
    public var occupancy: Int { entries.filter { $0.tag != 0 }.count }

    /// The first slot of the set that holds page `vpn`.
    func firstSlot(ofPage vpn: UInt64) -> Int { (Int(truncatingIfNeeded: vpn) & setMask) &* 4 }

    /// The slot caching page `vpn` with the `needed` permission bits, or nil. Counts nothing.
    @inline(__always) func slot(ofPage vpn: UInt64, needing needed: UInt64) -> Int? {
        guard capacity > 0 else { return nil }
        let first = firstSlot(ofPage: vpn)
        let tag = vpn &+ 1
        // One compare per way, into a select each.
        let found = entries.withUnsafeBufferPointer { entries in
            let set = UnsafeBufferPointer(rebasing: entries[first..<first &+ 4])
            var way = -1
            way = set[0].tag == tag ? 0 : way
            way = set[1].tag == tag ? 1 : way
            way = set[2].tag == tag ? 2 : way
            way = set[3].tag == tag ? 3 : way
            return way
        }
        guard found >= 0, entries[first &+ found].frame & needed == needed else { return nil }
        return first &+ found
    }

    /// Counts a hit on `slot` and marks it recently used.
    @inline(__always) mutating func use(_ slot: Int) {
        hits &+= 1
        markUsed(slot)
    }

    /// Marks `slot` recently used; when that would mark every way of its set, the others are
    /// cleared. A way already marked costs no store, which keeps repeated hits cheap.
    @inline(__always) mutating func markUsed(_ slot: Int) {
        let set = slot &>> 2, bit = UInt8(1) &<< UInt8(truncatingIfNeeded: slot & 3)
        let used = recentlyUsed[set]
        if used & bit == 0 { recentlyUsed[set] = used | bit == allWays ? bit : used | bit }
    }

    /// The frame of page `vpn` if a cached translation allows `access`, counting a hit or a miss.
    mutating func hit(page vpn: UInt64, _ access: Access) -> UInt64? {
        guard let s = slot(ofPage: vpn, needing: Permission.needed(for: access)) else {
            if capacity > 0 { misses &+= 1 }
            return nil
        }
        use(s)
        return entries[s].frame & ~0xFFF
    }

    /// Caches `entry` and returns its slot (nothing with no capacity).
    @discardableResult
    mutating func insert(_ entry: Entry) -> Int {
        guard capacity > 0 else { return 0 }
        let first = firstSlot(ofPage: entry.tag &- 1)
        // The page's own slot, else the first empty one, else the first not recently used
        // (with one way, that way). Slots past `ways` are empty, never the page's own.
        let (own, empty) = entries.withUnsafeBufferPointer { entries in
            var own: UInt8 = 0, empty: UInt8 = 0
            for w in 0..<4 {
                own |= entries[first &+ w].tag == entry.tag ? 1 &<< UInt8(w) : 0
                empty |= entries[first &+ w].tag == 0 ? 1 &<< UInt8(w) : 0
            }
            return (own, empty & allWays)
        }
        let unused = ~recentlyUsed[first &>> 2] & allWays
        let way = own != 0 ? own.trailingZeroBitCount
            : empty != 0 ? empty.trailingZeroBitCount : unused.trailingZeroBitCount & (ways &- 1)
        entries[first &+ way] = entry
        if (entry.frame & 0xFFF) >> Permission.pageShiftPosition > 12 { mayHoldLargePages = true }
        markUsed(first &+ way)
        return first &+ way
    }

    /// INVLPG: drops the translation of the page (of any size) that contains `va`.
    public mutating func invalidate(page va: UInt64) {
        guard capacity > 0 else { return }
        // Only a large page has pieces outside the set of `va`'s own 4 KiB page.
        let slots = mayHoldLargePages ? entries.indices : firstSlot(ofPage: va >> 12)..<firstSlot(ofPage: va >> 12) + 4
        for s in slots where entries[s].tag != 0 {
            let shift = (entries[s].frame & 0xFFF) >> Permission.pageShiftPosition
            if ((entries[s].tag - 1) << 12) >> shift == va >> shift { entries[s].tag = 0 }
        }
    }

    /// A CR3 write drops all but global entries; `includingGlobal` is a CR4.PGE toggle.
    public mutating func flush(includingGlobal: Bool = false) {
        if includingGlobal { mayHoldLargePages = false }
        for s in entries.indices where includingGlobal || entries[s].frame & Permission.global == 0 { entries[s].tag = 0 }
    }
}

/// The CPU's paging unit: walks the tables in physical memory from CR3, sets accessed and dirty
/// bits, checks permissions (CR0.WP set) and caches translations in a ``TLB``.
public struct MMU: Sendable {
    public let format: EntryFormat
    public private(set) var cr3: UInt64
    /// The first-level data TLB.
    public var tlb: TLB
    /// The second-level TLB (an STLB): a first-level miss looks here before it walks, and a hit
    /// here refills the first level. None when the first level has no entries.
    public var secondLevelTLB: TLB
    /// Page walks done (misses in both TLBs, and uncached accesses).
    public internal(set) var walks = 0
    @usableFromInline let significantMask: UInt64

    /// The defaults follow recent x86 cores: a 64-entry first level and a 2,048-entry second
    /// level (both 4-way here).
    public init(format: EntryFormat, cr3: UInt64, tlbCapacity: Int = 64, secondLevelTLBCapacity: Int = 2048) {
        self.format = format
        self.cr3 = cr3
        tlb = TLB(capacity: tlbCapacity)
        secondLevelTLB = TLB(capacity: tlbCapacity == 0 ? 0 : secondLevelTLBCapacity)
        significantMask = (1 << UInt64(format.mode.virtualAddressBits)) - 1
    }

    /// Loads CR3, which flushes the non-global TLB entries.
    public mutating func load(cr3 value: UInt64) {
        cr3 = value
        flush()
    }

    /// INVLPG: drops the translation of the page that contains `va` from both TLBs.
    public mutating func invalidate(page va: UInt64) {
        tlb.invalidate(page: va)
        secondLevelTLB.invalidate(page: va)
    }

    /// Flushes both TLBs: all but global entries, or with `includingGlobal` every entry.
    public mutating func flush(includingGlobal: Bool = false) {
        tlb.flush(includingGlobal: includingGlobal)
        secondLevelTLB.flush(includingGlobal: includingGlobal)
    }

    /// Translates `va` for `access`, through the TLBs, walking and setting A/D bits on a miss.
    public mutating func translate(_ va: UInt64, _ access: Access, memory: inout PhysicalMemory) -> Result<UInt64, PageFault> {
        switch cachedAccess(va, access, memory: memory) {
        case .word(_, let pa), .physical(let pa): return .success(pa)
        case .miss: return walk(va, access, memory: &memory).map { $0.physicalAddress }
        }
    }

    /// Where an access lands, as the TLBs know it.
    @usableFromInline enum CachedAccess {
        /// A hit, at this index of the memory's storage, and at this physical address.
        case word(Int, UInt64)
        /// A hit on a frame without storage of its own (never written, or outside RAM).
        case physical(UInt64)
        /// A miss in both TLBs (counted): the access needs a walk.
        case miss
    }

    /// The TLB lookup of an access to `va`. A hit gives the index in `memory`'s storage of the
    /// 8-byte word at `va` when the frame has storage. `memory` must be the memory this MMU's
    /// walks have used.
    @inline(__always) mutating func cachedAccess(_ va: UInt64, _ access: Access, memory: PhysicalMemory) -> CachedAccess {
        let needed = TLB.Permission.needed(for: access)
        let s: Int
        if let hit = tlb.slot(ofPage: va >> 12, needing: needed) {
            tlb.use(hit)
            s = hit
        } else {
            guard let refilled = refillFromSecondLevel(page: va >> 12, needing: needed) else { return .miss }
            s = refilled
        }
        var word = tlb.entries[s].hostWord
        if word < 0 {
            // The frame may have been written since the walk.
            word = memory.firstWord(ofFrame: tlb.entries[s].frame & ~0xFFF)
            guard word >= 0 else { return .physical(tlb.entries[s].frame & ~0xFFF | va & 0xFFF) }
            tlb.entries[s].hostWord = word
        }
        return .word(word &+ Int((va >> 3) & 511), tlb.entries[s].frame & ~0xFFF | va & 0xFFF)
    }

    /// After a first-level miss (counted here): the first-level slot refilled from the second
    /// level, or nil when it misses too.
    mutating func refillFromSecondLevel(page vpn: UInt64, needing needed: UInt64) -> Int? {
        guard tlb.capacity > 0 else { return nil }
        tlb.misses &+= 1
        guard let s = secondLevelTLB.slot(ofPage: vpn, needing: needed) else {
            if secondLevelTLB.capacity > 0 { secondLevelTLB.misses &+= 1 }
            return nil
        }
        secondLevelTLB.use(s)
        return tlb.insert(secondLevelTLB.entries[s])
    }

    /// The result of a walk: where it ended and the leaf entry.
    public struct Walk: Sendable {
        public let physicalAddress: UInt64
        public let level: Int
        public let leaf: UInt64
        public let writable: Bool
        public let user: Bool
        public let executable: Bool
    }

    /// A full page walk (no TLB lookup); fills the TLB on success.
    public mutating func walk(_ va: UInt64, _ access: Access, memory: inout PhysicalMemory) -> Result<Walk, PageFault> {
        walks &+= 1
        let mode = format.mode
        let sig = va & significantMask
        let wide = mode != .i386
        var level = mode.levels
        var table: UInt64 = switch mode {
        case .i386: cr3 & 0xFFFF_F000
        case .pae: cr3 & 0xFFFF_FFE0
        case .x86_64, .la57: cr3 & 0x000F_FFFF_FFFF_F000
        }
        // What every level so far allows, as TLB permission bits (W, U, X).
        var allowed = TLB.Permission.writable | TLB.Permission.user | TLB.Permission.executable
        let needed = TLB.Permission.needed(for: access) & ~TLB.Permission.dirty
        func fault(_ protection: Bool, reserved: Bool = false) -> Result<Walk, PageFault> {
            .failure(PageFault(address: va, protectionViolation: protection, write: access.write, user: access.user,
                               reservedBit: reserved, instructionFetch: access.execute, level: level))
        }
        while true {
            let shift = format.levelShifts[level]
            let entryAddress = table &+ ((sig &>> shift) & format.indexMasks[level]) &* (wide ? 8 : 4)
            var raw = wide ? memory.read64(entryAddress) : UInt64(memory.read32(entryAddress))
            if raw & 1 == 0 { return fault(false) }
            let leaf = format.isLeaf(raw, level: level)
            if raw & format.reservedMask(level: level, leaf: leaf) != 0 { return fault(true, reserved: true) }
            let pdpte = mode == .pae && level == 3
            if !pdpte {
                // RW and US sit one bit above the TLB's W and U; NX (bit 63) takes away X.
                allowed &= (raw &>> 1) & 3 | (raw &>> 63 == 0 ? TLB.Permission.executable : 0)
            }
            if leaf {
                if allowed & needed != needed { return fault(true) }
                let updated = raw | EntryFlags.accessed.rawValue | (access.write ? EntryFlags.dirty.rawValue : 0)
                if updated != raw { raw = updated; store(raw, at: entryAddress, wide: wide, memory: &memory) }
                // A leaf at `level` maps a page as large as that level's index shift.
                let pa = format.address(of: raw, level: level, leaf: true) | (sig & (1 &<< shift &- 1))
                let cached = allowed | (raw & EntryFlags.global.rawValue != 0 ? TLB.Permission.global : 0)
                    | (raw & EntryFlags.dirty.rawValue != 0 ? TLB.Permission.dirty : 0)
                let entry = TLB.Entry(page: va >> 12, frame: pa & ~0xFFF, permissions: cached, pageShift: Int(shift),
                                      hostWord: memory.firstWord(ofFrame: pa & ~0xFFF))
                tlb.insert(entry)
                secondLevelTLB.insert(entry)
                return .success(Walk(physicalAddress: pa, level: level, leaf: raw, writable: allowed & TLB.Permission.writable != 0,
                                     user: allowed & TLB.Permission.user != 0, executable: allowed & TLB.Permission.executable != 0))
            }
            if !pdpte && raw & EntryFlags.accessed.rawValue == 0 {
                raw |= EntryFlags.accessed.rawValue
                store(raw, at: entryAddress, wide: wide, memory: &memory)
            }
            table = format.address(of: raw, level: level, leaf: false)
            level -= 1
        }
    }

    func store(_ raw: UInt64, at pa: UInt64, wide: Bool, memory: inout PhysicalMemory) {
        if wide { memory.write64(pa, raw) } else { memory.write32(pa, UInt32(truncatingIfNeeded: raw)) }
    }
}

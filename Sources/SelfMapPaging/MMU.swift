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

/// A data TLB: `capacity` translations in sets of four ways (as x86 L1 DTLBs are), least
/// recently used out first. Large pages are cached per 4 KiB piece, so `invalidate(page:)`
/// drops every piece of the page that contains the address.
///
/// Like QEMU's software TLB, an entry also remembers where its frame's bytes live in the
/// simulator's ``PhysicalMemory``, so a hit costs no physical-address lookup.
public struct TLB: Sendable {
    /// The largest capacity: 1,024 sets of four ways.
    public static let maximumCapacity = 4096
    public let capacity: Int
    /// Ways per set: 4, or the capacity when it is smaller.
    public let ways: Int
    /// Four slots per set (those past `ways` stay empty), each the page number + 1, or 0 when empty.
    @usableFromInline var tags: [UInt64]
    @usableFromInline var entries: [Entry]
    /// Per set: its ways from most to least recently used, two bits each. Inline, so that the
    /// update on every hit is a plain store rather than an array's copy-on-write check.
    @usableFromInline var recency: InlineArray<1024, UInt8>
    @usableFromInline let setMask: Int
    /// The low bit of each of a set's `ways` two-bit fields in ``recency``.
    @usableFromInline let wayFields: UInt32
    public internal(set) var hits = 0
    public internal(set) var misses = 0

    /// A cached translation.
    @usableFromInline struct Entry: Sendable {
        /// The frame, with ``Permission`` bits and the page shift in its low 12 bits.
        @usableFromInline var frame: UInt64
        /// The frame's first word in the memory's storage, or -1 if it had none when looked up.
        @usableFromInline var hostWord: Int
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
        wayFields = 0b01_01_01_01 & (1 << (2 * UInt32(ways)) - 1)
        tags = Array(repeating: 0, count: sets * 4)
        entries = Array(repeating: Entry(frame: 0, hostWord: -1), count: sets * 4)
        // Way 0 first, the last way least recently used.
        recency = InlineArray(repeating: 0b11_10_01_00)
    }

    /// Entries currently valid.
    public var occupancy: Int { tags.filter { $0 != 0 }.count }

    /// The first slot of the set that holds page `vpn`.
    func firstSlot(ofPage vpn: UInt64) -> Int { (Int(truncatingIfNeeded: vpn) & setMask) &* 4 }

    /// The slot caching page `vpn` with the `needed` permission bits, or nil. Counts nothing.
    @inline(__always) func slot(ofPage vpn: UInt64, needing needed: UInt64) -> Int? {
        guard capacity > 0 else { return nil }
        let first = firstSlot(ofPage: vpn)
        let tag = vpn &+ 1
        // Without branches: which way holds the page is random, and a mispredicted branch would
        // cost more than the four compares.
        let found = tags.withUnsafeBufferPointer { tags in
            let set = UnsafeBufferPointer(rebasing: tags[first..<first &+ 4])
            var way = -1
            way = set[0] == tag ? 0 : way
            way = set[1] == tag ? 1 : way
            way = set[2] == tag ? 2 : way
            way = set[3] == tag ? 3 : way
            return way
        }
        guard found >= 0, entries[first &+ found].frame & needed == needed else { return nil }
        return first &+ found
    }

    /// Counts a hit on `slot` and makes it its set's most recently used.
    @inline(__always) mutating func use(_ slot: Int) {
        hits &+= 1
        makeMostRecent(slot)
    }

    /// Moves the way of `slot` to the front of its set's recency order.
    @inline(__always) mutating func makeMostRecent(_ slot: Int) {
        let set = slot &>> 2, way = UInt32(truncatingIfNeeded: slot & 3)
        let order = UInt32(recency[set])
        // The field that holds `way` is the one whose two bits the XOR clears.
        let differs = order ^ way &* 0b01_01_01_01
        let split = UInt32((~(differs | differs &>> 1) & wayFields).trailingZeroBitCount)
        let ahead = order & (1 &<< split &- 1), behind = order & ~(1 &<< (split &+ 2) &- 1)
        recency[set] = UInt8(truncatingIfNeeded: behind | ahead &<< 2 | way)
    }

    /// The frame of page `vpn` if a cached translation allows `access`, counting a hit or a miss.
    @inline(__always) mutating func hit(page vpn: UInt64, _ access: Access) -> UInt64? {
        guard let s = slot(ofPage: vpn, needing: Permission.needed(for: access)) else {
            if capacity > 0 { misses &+= 1 }
            return nil
        }
        use(s)
        return entries[s].frame & ~0xFFF
    }

    mutating func insert(page vpn: UInt64, frame: UInt64, permissions: UInt64, pageShift: Int, hostWord: Int) {
        guard capacity > 0 else { return }
        let first = firstSlot(ofPage: vpn)
        let tag = vpn &+ 1
        // The page's own slot, else the first empty one, else the least recently used.
        let order = Int(recency[first &>> 2])
        let way = tags.withUnsafeBufferPointer { tags in
            var way = order &>> (2 &* (ways &- 1)) & 3
            for w in (0..<ways).reversed() where tags[first &+ w] == 0 { way = w }
            for w in 0..<ways where tags[first &+ w] == tag { way = w }
            return way
        }
        tags[first &+ way] = tag
        entries[first &+ way] = Entry(frame: frame | permissions | UInt64(pageShift) << Permission.pageShiftPosition, hostWord: hostWord)
        makeMostRecent(first &+ way)
    }

    /// INVLPG: drops the translation of the page (of any size) that contains `va`.
    public mutating func invalidate(page va: UInt64) {
        for s in tags.indices where tags[s] != 0 {
            let shift = (entries[s].frame & 0xFFF) >> Permission.pageShiftPosition
            if ((tags[s] - 1) << 12) >> shift == va >> shift { tags[s] = 0 }
        }
    }

    /// A CR3 write drops all but global entries; `includingGlobal` is a CR4.PGE toggle.
    public mutating func flush(includingGlobal: Bool = false) {
        for s in tags.indices where includingGlobal || entries[s].frame & Permission.global == 0 { tags[s] = 0 }
    }
}

/// The CPU's paging unit: walks the tables in physical memory from CR3, sets accessed and dirty
/// bits, checks permissions (CR0.WP set) and caches translations in a ``TLB``.
public struct MMU: Sendable {
    public let format: EntryFormat
    public private(set) var cr3: UInt64
    public var tlb: TLB
    /// Page walks done (TLB misses and uncached accesses).
    public internal(set) var walks = 0
    @usableFromInline let significantMask: UInt64

    public init(format: EntryFormat, cr3: UInt64, tlbCapacity: Int = 64) {
        self.format = format
        self.cr3 = cr3
        tlb = TLB(capacity: tlbCapacity)
        significantMask = (1 << UInt64(format.mode.virtualAddressBits)) - 1
    }

    /// Loads CR3, which flushes the non-global TLB entries.
    public mutating func load(cr3 value: UInt64) {
        cr3 = value
        tlb.flush()
    }

    /// Translates `va` for `access`, through the TLB, walking and setting A/D bits on a miss.
    public mutating func translate(_ va: UInt64, _ access: Access, memory: inout PhysicalMemory) -> Result<UInt64, PageFault> {
        if let frame = tlb.hit(page: va >> 12, access) { return .success(frame | (va & 0xFFF)) }
        return walk(va, access, memory: &memory).map { $0.physicalAddress }
    }

    /// The fast path of an access the TLB allows: the index in `memory`'s storage of the 8-byte
    /// word at `va`. Nil sends the access to ``translate(_:_:memory:)``: a miss, or a frame
    /// without storage of its own (never written, or outside RAM). `memory` must be the memory
    /// this MMU's walks have used.
    @inline(__always) mutating func cachedWord(_ va: UInt64, _ access: Access, memory: PhysicalMemory) -> Int? {
        guard let s = tlb.slot(ofPage: va >> 12, needing: TLB.Permission.needed(for: access)) else { return nil }
        var word = tlb.entries[s].hostWord
        if word < 0 {
            // The frame may have been written since the walk.
            word = memory.firstWord(ofFrame: tlb.entries[s].frame & ~0xFFF)
            guard word >= 0 else { return nil }
            tlb.entries[s].hostWord = word
        }
        tlb.use(s)
        return word &+ Int((va >> 3) & 511)
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
        var writable = true, user = true, executable = true
        func fault(_ protection: Bool, reserved: Bool = false) -> Result<Walk, PageFault> {
            .failure(PageFault(address: va, protectionViolation: protection, write: access.write, user: access.user,
                               reservedBit: reserved, instructionFetch: access.execute, level: level))
        }
        while true {
            let entryAddress = table &+ ((sig >> format.levelShifts[level]) & format.indexMasks[level]) &* (wide ? 8 : 4)
            var raw = wide ? memory.read64(entryAddress) : UInt64(memory.read32(entryAddress))
            if raw & 1 == 0 { return fault(false) }
            let leaf = format.isLeaf(raw, level: level)
            if raw & format.reservedMask(level: level, leaf: leaf) != 0 { return fault(true, reserved: true) }
            let pdpte = mode == .pae && level == 3
            if !pdpte {
                writable = writable && raw & 2 != 0
                user = user && raw & 4 != 0
                executable = executable && raw >> 63 == 0
            }
            if leaf {
                if (access.write && !writable) || (access.user && !user) || (access.execute && !executable) { return fault(true) }
                let updated = raw | EntryFlags.accessed.rawValue | (access.write ? EntryFlags.dirty.rawValue : 0)
                if updated != raw { raw = updated; store(raw, at: entryAddress, wide: wide, memory: &memory) }
                // A leaf at `level` maps a page as large as that level's index shift.
                let pa = format.address(of: raw, level: level, leaf: true) | (sig & ((1 << format.levelShifts[level]) - 1))
                var allowed: UInt64 = 0
                if writable { allowed |= TLB.Permission.writable }
                if user { allowed |= TLB.Permission.user }
                if executable { allowed |= TLB.Permission.executable }
                if raw & EntryFlags.global.rawValue != 0 { allowed |= TLB.Permission.global }
                if raw & EntryFlags.dirty.rawValue != 0 { allowed |= TLB.Permission.dirty }
                tlb.insert(page: va >> 12, frame: pa & ~0xFFF, permissions: allowed, pageShift: Int(format.levelShifts[level]),
                           hostWord: memory.firstWord(ofFrame: pa & ~0xFFF))
                return .success(Walk(physicalAddress: pa, level: level, leaf: raw, writable: writable, user: user, executable: executable))
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

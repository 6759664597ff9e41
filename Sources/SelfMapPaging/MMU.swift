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

/// A data TLB: `capacity` translations in sets of four ways (as x86 L1 DTLBs are), least
/// recently used out first. Large pages are cached per 4 KiB piece, so `invalidate(page:)`
/// drops every piece of the page that contains the address.
public struct TLB: Sendable {
    public let capacity: Int
    /// Ways per set: 4, or the capacity when it is smaller.
    public let ways: Int
    /// One cached translation; `tag` is the page number + 1 (0: empty).
    @usableFromInline struct Entry: Sendable {
        @usableFromInline var tag: UInt64
        @usableFromInline var frame: UInt64
        @usableFromInline var info: UInt16
        @usableFromInline var lastUse: UInt32
    }
    @usableFromInline var entries: [Entry]
    @usableFromInline let setMask: Int
    @usableFromInline var clock: UInt32 = 0
    public internal(set) var hits = 0
    public internal(set) var misses = 0

    @usableFromInline static let writable: UInt16 = 1, user: UInt16 = 2, executable: UInt16 = 4
    @usableFromInline static let global: UInt16 = 8, dirty: UInt16 = 16

    /// `capacity` must be 0 (no TLB) or a power of two.
    public init(capacity: Int = 64) {
        precondition(capacity == 0 || capacity & (capacity - 1) == 0, "TLB capacity is a power of two")
        self.capacity = capacity
        ways = min(4, capacity)
        setMask = capacity == 0 ? 0 : capacity / ways - 1
        entries = Array(repeating: Entry(tag: 0, frame: 0, info: 0, lastUse: 0), count: capacity)
    }

    /// Entries currently valid.
    public var occupancy: Int { entries.filter { $0.tag != 0 }.count }

    /// The first slot of the set that holds page `vpn`.
    @usableFromInline func firstSlot(ofPage vpn: UInt64) -> Int { (Int(truncatingIfNeeded: vpn) & setMask) &* ways }

    /// The frame of page `vpn` if a cached translation allows `access` (a write also needs the
    /// dirty bit set), counting a hit or a miss.
    @usableFromInline mutating func hit(page vpn: UInt64, _ access: Access) -> UInt64? {
        guard capacity > 0 else { return nil }
        let first = firstSlot(ofPage: vpn)
        let tag = vpn &+ 1
        clock &+= 1
        let now = clock
        let frame: UInt64? = entries.withUnsafeMutableBufferPointer { buffer in
            for s in first..<(first &+ ways) where buffer[s].tag == tag {
                let i = buffer[s].info
                let denied = (access.write && i & (Self.writable | Self.dirty) != Self.writable | Self.dirty)
                    || (access.user && i & Self.user == 0) || (access.execute && i & Self.executable == 0)
                if denied { return nil }
                buffer[s].lastUse = now
                return buffer[s].frame
            }
            return nil
        }
        if frame == nil { misses &+= 1 } else { hits &+= 1 }
        return frame
    }

    @usableFromInline mutating func insert(page vpn: UInt64, frame: UInt64, flags: UInt16, pageShift: Int) {
        guard capacity > 0 else { return }
        let first = firstSlot(ofPage: vpn)
        var victim = first
        for s in first..<(first &+ ways) {
            if entries[s].tag == vpn &+ 1 || entries[s].tag == 0 { victim = s; break }
            // The least recently used: the largest age since its last use.
            if clock &- entries[s].lastUse > clock &- entries[victim].lastUse { victim = s }
        }
        clock &+= 1
        entries[victim] = Entry(tag: vpn &+ 1, frame: frame, info: flags | UInt16(pageShift) << 8, lastUse: clock)
    }

    /// INVLPG: drops the translation of the page (of any size) that contains `va`.
    public mutating func invalidate(page va: UInt64) {
        for s in 0..<capacity where entries[s].tag != 0 {
            let shift = UInt64(entries[s].info >> 8)
            if ((entries[s].tag - 1) << 12) >> shift == va >> shift { entries[s].tag = 0 }
        }
    }

    /// A CR3 write drops all but global entries; `includingGlobal` is a CR4.PGE toggle.
    public mutating func flush(includingGlobal: Bool = false) {
        for s in 0..<capacity where includingGlobal || entries[s].info & Self.global == 0 { entries[s].tag = 0 }
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
                var flags: UInt16 = 0
                if writable { flags |= TLB.writable }
                if user { flags |= TLB.user }
                if executable { flags |= TLB.executable }
                if raw & EntryFlags.global.rawValue != 0 { flags |= TLB.global }
                if raw & EntryFlags.dirty.rawValue != 0 { flags |= TLB.dirty }
                tlb.insert(page: va >> 12, frame: pa & ~0xFFF, flags: flags, pageShift: Int(format.levelShifts[level]))
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

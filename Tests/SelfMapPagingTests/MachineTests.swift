import Testing
@testable import SelfMapPaging

/// The kernel's operations through the self-map, each result checked against the direct walker.
struct MachineTests {
    static let modes = PagingMode.allCases

    /// A random page-aligned user address for `mode`.
    static func userAddress(_ mode: PagingMode, _ rng: inout SplitMix64) -> UInt64 {
        let limit: UInt64 = mode == .i386 || mode == .pae ? 0xC000_0000 : 1 << UInt64(mode.virtualAddressBits - 1)
        return (rng.next() % limit) & ~0xFFF
    }

    static func expectAgrees(_ m: inout Machine, _ va: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let kernel = try m.translate(va)
        let direct = try m.directWalker.translate(root: m.current.root.address, va)
        #expect(kernel == direct, "0x\(String(va, radix: 16))", sourceLocation: sourceLocation)
    }

    @Test("map, translate and unmap through the self-map agree with the direct walker; every table is freed again",
          arguments: modes, TableCreation.allCases)
    func mapTranslateUnmap(mode: PagingMode, tables: TableCreation) throws {
        var m = try Machine(mode: mode, frameCount: 2048)
        let baseline = m.frames.accounting
        var rng = SplitMix64(seed: 7)
        var mapped: [UInt64: UInt64] = [:]
        while mapped.count < 300 {
            let va = Self.userAddress(mode, &rng)
            guard mapped[va] == nil else { continue }
            let pa = (rng.next() % (1 << 30) | 1 << 30) & ~0xFFF    // above RAM
            try m.map(va, to: pa, flags: [.writable, .user], tables: tables)
            mapped[va] = pa
        }
        for (va, pa) in mapped {
            let t = try #require(try m.translate(va + 0x123))
            #expect(t.physicalAddress == pa + 0x123)
            #expect(t.pageSize == .size4KiB && t.user && t.writable)
            try Self.expectAgrees(&m, va + 0x123)
        }
        for _ in 0..<300 { try Self.expectAgrees(&m, Self.userAddress(mode, &rng)) }
        #expect(m.audit().isClean)
        // Every table is where the self-map says: the MMU translates its self-mapped address to its frame.
        for va in mapped.keys.prefix(50) {
            let sig = try m.selfMap.significantBits(of: va)
            for level in 1...(mode == .pae ? 2 : mode.levels) {
                let tableVA = m.own.tableAddress(sig, level: level)
                let step = m.directWalker.steps(root: m.current.root.address, va).first { $0.level == level }
                let expected = try #require(step).entryAddress & ~0xFFF
                #expect(try m.directWalker.translate(root: m.current.root.address, tableVA)?.physicalAddress == expected)
            }
        }
        for va in mapped.keys { try m.unmap(va) }
        for va in mapped.keys.prefix(20) { #expect(try m.translate(va) == nil) }
        #expect(m.frames.accounting == baseline, "tables left behind")
        #expect(m.audit().isClean)
    }

    @Test("Large pages: 4 MiB (i386), 2 MiB, 1 GiB; a 4 KiB map below one is refused", arguments: modes)
    func largePages(mode: PagingMode) throws {
        var m = try Machine(mode: mode)
        let sizes = PageSize.allCases.filter { $0 != .size4KiB && $0.level(in: mode) != nil }
        #expect(!sizes.isEmpty)
        for (k, size) in sizes.enumerated() {
            let va = size.bytes * UInt64(k + 1)
            let pa = size.bytes * 3 + 0x4000_0000    // above RAM
            try m.map(va, to: pa, size: size, flags: [.writable, .user])
            let t = try #require(try m.translate(va + 0x1234))
            #expect(t.pageSize == size && t.physicalAddress == pa + 0x1234)
            try Self.expectAgrees(&m, va + size.bytes - 8)
            for tables in TableCreation.allCases {
                #expect(throws: PagingError.hugePageInTheWay(VirtualAddress(va + 0x5000), level: size.level(in: mode)!)) {
                    try m.map(va + 0x5000, to: 0x1000, tables: tables)
                }
            }
            #expect(throws: PagingError.misaligned(va + 0x1000, size)) { try m.unmap(va + 0x1000) }
            try m.unmap(va)
            #expect(try m.translate(va) == nil)
        }
        #expect(throws: PagingError.unsupportedPageSize(.size1GiB, mode).self) {
            if PageSize.size1GiB.level(in: mode) == nil { try m.map(0x4000_0000, to: 0, size: .size1GiB) } else {
                throw PagingError.unsupportedPageSize(.size1GiB, mode)
            }
        }
        #expect(m.audit().isClean)
    }

    @Test("PSE-36: a 4 MiB page above 4 GiB in 32-bit paging")
    func pse36() throws {
        var m = try Machine(mode: .i386)
        try m.map(0x0040_0000, to: 0x12_3440_0000, size: .size4MiB)
        #expect(try m.translate(0x0040_0010)?.physicalAddress == 0x12_3440_0010)
        try Self.expectAgrees(&m, 0x0040_0010)
        #expect(throws: PagingError.physicalAddressTooWide(0x1_0000_0000)) { try m.map(0x1000, to: 0x1_0000_0000) }
    }

    @Test("Typed errors: already mapped, not mapped, out of frames, non-canonical, self-map region", arguments: modes)
    func errors(mode: PagingMode) throws {
        var m = try Machine(mode: mode, frameCount: 8)
        try m.map(0x1000, to: 0x5000)
        #expect(throws: PagingError.alreadyMapped(VirtualAddress(0x1000))) { try m.map(0x1000, to: 0x6000) }
        #expect(throws: PagingError.alreadyMapped(VirtualAddress(0x1000))) { try m.map(0x1000, to: 0x6000, tables: .onFault) }
        #expect(throws: PagingError.notMapped(VirtualAddress(0x2000_0000))) { try m.unmap(0x2000_0000) }
        #expect(throws: PagingError.misaligned(0x1001, .size4KiB)) { try m.map(0x1001, to: 0) }
        #expect(throws: PagingError.outOfFrames) {
            for k in 1...64 { try m.map(UInt64(k) << 30 & 0xBFFF_FFFF | UInt64(k) << 22, to: 0) }
        }
        #expect(m.audit().accounting.balances)
        let top = m.selfMap.regions.first!.first!.raw
        #expect(throws: PagingError.selfMapRegion(VirtualAddress(top))) { try m.map(top, to: 0) }
        if mode == .x86_64 || mode == .la57 {
            let bad: UInt64 = mode == .x86_64 ? 0x0000_8000_0000_0000 : 0x0100_0000_0000_0000
            #expect(throws: PagingError.nonCanonical(bad)) { try m.translate(bad) }
        } else {
            #expect(throws: PagingError.nonCanonical(0x1_0000_0000)) { try m.translate(0x1_0000_0000) }
        }
        if mode == .i386 {
            #expect(throws: PagingError.self) { try m.map(0x3000, to: 0, flags: [.noExecute]) }
        }
    }

    @Test("A reserved bit in an entry: translate reports it, and the MMU faults with RSVD", arguments: modes)
    func reservedBits(mode: PagingMode) throws {
        guard mode != .i386 else { return }
        var m = try Machine(mode: mode)
        try m.map(0x40_0000, to: 0x9000, flags: [.writable, .user])
        let sig = try m.selfMap.significantBits(of: 0x40_0000)
        let at = m.own.entryAddress(sig, level: 1)
        let raw = try m.loadEntry(at: at)
        let bad = raw | 1 << 45    // above MAXPHYADDR 40
        try m.storeEntry(bad, at: at)
        m.invalidate(0x40_0000)
        #expect(throws: PagingError.reservedBitSet(VirtualAddress(0x40_0000), level: 1, entry: bad)) { try m.translate(0x40_0000) }
        #expect(throws: PagingError.reservedBitSet(VirtualAddress(0x40_0000), level: 1, entry: bad)) {
            try m.directWalker.translate(root: m.current.root.address, 0x40_0000)
        }
        #expect(throws: PagingError.reservedBitSet(VirtualAddress(0x40_0000), level: 1, entry: bad)) { try m.load(0x40_0000) }
    }

    @Test("updateFlags: a read-only page faults on a user write; NX stops a fetch", arguments: modes)
    func flagUpdates(mode: PagingMode) throws {
        var m = try Machine(mode: mode)
        try m.store(42, at: 0x40_0008)        // demand-paged
        try m.updateFlags(0x40_0000, clear: [.writable])
        try Self.expectAgrees(&m, 0x40_0000)
        #expect(try m.translate(0x40_0000)?.writable == false)
        #expect(throws: PagingError.self) { try m.store(1, at: 0x40_0008) }
        #expect(try m.load(0x40_0008) == 42)
        if mode != .i386 {
            try m.updateFlags(0x40_0000, set: [.noExecute])
            #expect(throws: PagingError.self) { try m.touch(0x40_0000, Access(user: true, execute: true)) }
        }
        let t = try #require(try m.translate(0x40_0000))
        #expect(t.flags.contains(.accessed) && t.flags.contains(.dirty))
        #expect(throws: PagingError.invalidFlags("P and PS cannot be updated")) { try m.updateFlags(0x40_0000, clear: [.present]) }
    }

    @Test("The page-fault handler creates tables bottom-up and demand-pages user memory", arguments: modes)
    func faultDrivenCreation(mode: PagingMode) throws {
        var m = try Machine(mode: mode)
        let before = m.frames.accounting
        let va: UInt64 = 0x1234_5000 & (mode == .i386 || mode == .pae ? 0x7FFF_FFFF : ~0)
        try m.store(0xFEED, at: va)
        #expect(try m.load(va) == 0xFEED)
        let after = m.frames.accounting
        #expect(after.data == before.data + 1)
        #expect(after.tables == before.tables + (mode == .pae ? 1 : mode.levels - 1))
        try Self.expectAgrees(&m, va)
        #expect(m.audit().isClean)
        // A kernel access to an unmapped kernel address is not demand-paged.
        let kernel: UInt64 = switch mode {
        case .i386, .pae: 0xD000_0000
        case .x86_64: 0xFFFF_9000_0000_0000
        case .la57: 0xFF00_0000_0000_0000
        }
        #expect(throws: PagingError.self) { try m.touch(kernel, .kernelRead) }
        try m.unmap(va)
        #expect(m.frames.accounting == before)
    }

    @Test("fork and kill: eager copies, copy-on-write shares until the first write, nothing leaks",
          arguments: modes, ForkStrategy.allCases)
    func forkAndKill(mode: PagingMode, strategy: ForkStrategy) throws {
        var m = try Machine(mode: mode, frameCount: 1024)
        try m.map(m.kernelBaseAddress + 0x40_0000, to: 0x8000, flags: [.writable])    // kernel memory, shared
        let pages: [UInt64] = (0..<40).map { UInt64($0) * 0x1000 + 0x40_0000 } + [0x8000_0000 & (mode == .i386 || mode == .pae ? 0x7FFF_FFFF : ~0)]
        for (k, va) in pages.enumerated() { try m.store(UInt64(k) + 1, at: va) }
        try m.map(0x30_0000, to: 0xFEE0_0000, flags: [.writable, .user])               // device memory, shared
        let beforeFork = m.frames.accounting
        let parent = m.current
        let child = try m.fork(strategy)
        #expect(m.audit().isClean)
        let forked = m.frames.accounting
        if strategy == .copyOnWrite {
            #expect(forked.data == beforeFork.data)
            #expect(forked.shared == pages.count)
        } else {
            #expect(forked.data == beforeFork.data + pages.count)
        }
        try m.switchTo(child)
        for (k, va) in pages.enumerated() { #expect(try m.load(va) == UInt64(k) + 1) }
        #expect(try m.translate(0x30_0000)?.physicalAddress == 0xFEE0_0000)
        #expect(try m.translate(m.kernelBaseAddress + 0x40_0000)?.physicalAddress == 0x8000)
        try m.store(100, at: pages[0])
        try m.switchTo(parent)
        try m.store(200, at: pages[1])
        #expect(try m.load(pages[0]) == 1)
        try m.switchTo(child)
        #expect(try m.load(pages[1]) == 2)
        #expect(try m.load(pages[0]) == 100)
        if strategy == .copyOnWrite { #expect(m.frames.accounting.data == beforeFork.data + 2) }
        #expect(m.audit().isClean)
        #expect(throws: PagingError.addressSpaceInUse) { try m.kill(child) }
        try m.switchTo(parent)
        try m.kill(child)
        #expect(m.audit().isClean)
        // Everything of the child is gone (PAE keeps the kernel page table of its scratch mapping).
        #expect(m.frames.accounting.tables == beforeFork.tables + (mode == .pae ? 1 : 0))
        #expect(m.frames.accounting.data == beforeFork.data)
        #expect(m.frames.accounting.shared == 0)
        for (k, va) in pages.enumerated() where k != 1 { #expect(try m.load(va) == UInt64(k) + 1) }
        #expect(try m.load(pages[1]) == 200)
        #expect(throws: PagingError.noSuchAddressSpace) { try m.kill(child) }
    }

    @Test("Leaving out INVLPG after a remap leaves a stale translation in the TLB", arguments: modes)
    func staleTLB(mode: PagingMode) throws {
        for invalidates in [true, false] {
            var m = try Machine(mode: mode)
            m.invalidatesTLB = invalidates
            // TLB set 5: the table pages these operations touch fall in other sets of the 4-way TLB.
            try m.map(0x40_5000, to: 0xA000, flags: [.writable, .user])
            #expect(try m.touch(0x40_5010) == 0xA010)           // now cached
            try m.unmap(0x40_5000)
            try m.map(0x40_5000, to: 0xB000, flags: [.writable, .user])
            let used = try m.touch(0x40_5010)
            #expect(used == (invalidates ? 0xB010 : 0xA010))
            #expect(try m.translate(0x40_5010)?.physicalAddress == 0xB010)   // the tables are right either way
            m.flushTLB()
            #expect(try m.touch(0x40_5010) == 0xB010)
        }
    }

    @Test("A fork that runs out of frames part way frees what it built", arguments: modes, ForkStrategy.allCases)
    func failedForkLeavesNothing(mode: PagingMode, strategy: ForkStrategy) throws {
        func parent(frames: Int) throws -> Machine {
            var m = try Machine(mode: mode, frameCount: frames)
            for k in 0..<3 { try m.touch(UInt64(k + 1) << 22, Access(write: true, user: true)) }
            return m
        }
        let free = try parent(frames: 64).frames.accounting.free
        // Every frame count from "no frame for the child's root" up to the one that suffices.
        var failures = 0
        for spare in 0...24 where 64 - free + spare >= 8 {
            var m = try parent(frames: 64 - free + spare)
            let before = m.frames.accounting
            do {
                let child = try m.fork(strategy)
                try m.kill(child)
                break
            } catch PagingError.outOfFrames {
                failures += 1
                #expect(m.spaces.count == 1)
            }
            // The scratch page table PAE's fork makes stays: it belongs to the kernel.
            #expect(m.frames.accounting.tables - before.tables <= (mode == .pae ? 1 : 0), "\(spare) spare frames")
            #expect(m.frames.accounting.data == before.data, "\(spare) spare frames")
            #expect(m.audit().isClean, "\(spare) spare frames: \(m.audit().problems)")
        }
        #expect(failures >= 2)
    }

    @Test("A second self-map slot can be chosen; a bad window slot is refused")
    func configuration() throws {
        var m = try Machine(mode: .x86_64, selfMapIndex: 256, windowSlot: 257)
        try m.map(0x1000, to: 0x2000)
        try Self.expectAgrees(&m, 0x1000)
        #expect(throws: PagingError.self) { try Machine(mode: .x86_64, selfMapIndex: 256, windowSlot: 256) }
        #expect(throws: PagingError.self) { try Machine(mode: .pae, windowSlot: 2042) }
    }
}

extension Machine {
    /// The first kernel address, canonical.
    var kernelBaseAddress: UInt64 { selfMap.canonical(kernelBase) }
}

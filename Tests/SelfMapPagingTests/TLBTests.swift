import Testing
@testable import SelfMapPaging

/// The TLB model on its own: sets, pseudo-LRU replacement, invalidation.
struct TLBTests {
    /// Caches page `vpn` as frame `vpn` << 12, kernel-writable and dirty.
    func fill(_ tlb: inout TLB, _ vpn: UInt64) {
        tlb.insert(TLB.Entry(page: vpn, frame: vpn << 12, permissions: TLB.Permission.writable | TLB.Permission.dirty,
                             pageShift: 12, hostWord: -1))
    }

    func cached(_ tlb: inout TLB, _ vpn: UInt64) -> Bool { tlb.hit(page: vpn, .kernelRead) == vpn << 12 }

    @Test("A full set replaces a way not used since the others were", arguments: [1, 2, 4])
    func leastRecentlyUsedIsReplaced(ways: Int) {
        var tlb = TLB(capacity: ways)
        for vpn in 1...UInt64(ways) { fill(&tlb, vpn) }
        #expect(tlb.occupancy == ways)
        // Use every page but the second: page 2 (with one way, page 1) is the one left unmarked.
        for vpn in (1...UInt64(ways)).reversed() where vpn != 2 { #expect(cached(&tlb, vpn)) }
        fill(&tlb, 100)
        let evicted: UInt64 = ways == 1 ? 1 : 2
        #expect(!cached(&tlb, evicted))
        for vpn in 1...UInt64(ways) where vpn != evicted { #expect(cached(&tlb, vpn)) }
        #expect(cached(&tlb, 100))
        #expect(tlb.occupancy == ways)
    }

    @Test("Marking the last unmarked way of a set clears the other marks (pseudo-LRU, not LRU)")
    func marksResetWhenTheSetIsFull() {
        var tlb = TLB(capacity: 4)
        for vpn in 1...4 as ClosedRange<UInt64> { fill(&tlb, vpn) }    // marks reset: only page 4's way
        for vpn: UInt64 in [1, 2, 3] { #expect(cached(&tlb, vpn)) }      // page 3's mark resets them again
        fill(&tlb, 5)
        // True LRU would evict page 4, used longest ago; the marks say page 1's way.
        #expect(!cached(&tlb, 1))
        for vpn: UInt64 in [2, 3, 4, 5] { #expect(cached(&tlb, vpn)) }
    }

    @Test("Pages fall in sets by their low bits; a full set leaves the others alone")
    func setsAreIndependent() {
        var tlb = TLB(capacity: 64)    // 16 sets of 4
        for k in 0..<5 { fill(&tlb, 3 + 16 * UInt64(k)) }    // five pages for set 3
        fill(&tlb, 4)
        #expect(!cached(&tlb, 3))
        for k in 1..<5 { #expect(cached(&tlb, 3 + 16 * UInt64(k))) }
        #expect(cached(&tlb, 4))
    }

    @Test("An empty way is used before any eviction, and refilling a page keeps one copy")
    func emptyWaysFirst() {
        var tlb = TLB(capacity: 4)
        for vpn in 1...4 as ClosedRange<UInt64> { fill(&tlb, vpn) }
        tlb.invalidate(page: 3 << 12)
        fill(&tlb, 9)
        for vpn: UInt64 in [1, 2, 4, 9] { #expect(cached(&tlb, vpn)) }
        fill(&tlb, 9)
        #expect(tlb.occupancy == 4)
        #expect(tlb.hits == 4 && tlb.misses == 0)
    }

    @Test("INVLPG anywhere in a large page drops every cached 4 KiB piece of it")
    func invalidateLargePage() {
        var tlb = TLB(capacity: 64)
        for piece in 0..<8 as Range<UInt64> {
            tlb.insert(TLB.Entry(page: 0x200 + piece, frame: 0x4000_0000 + piece << 12, permissions: 0, pageShift: 21, hostWord: -1))
        }
        fill(&tlb, 0x400)
        tlb.invalidate(page: 0x20_5123)
        #expect(tlb.occupancy == 1)
        #expect(cached(&tlb, 0x400))
    }

    @Test("A write needs a cached dirty bit; a read does not")
    func writesNeedDirty() {
        var tlb = TLB(capacity: 4)
        tlb.insert(TLB.Entry(page: 7, frame: 0x7000, permissions: TLB.Permission.writable, pageShift: 12, hostWord: -1))
        #expect(tlb.hit(page: 7, .kernelWrite) == nil)
        #expect(tlb.hit(page: 7, .kernelRead) == 0x7000)
        #expect(tlb.hit(page: 7, Access(user: true)) == nil)
        #expect(tlb.hits == 1 && tlb.misses == 2)
    }

    @Test("A first-level miss refills from the second level without a walk; INVLPG drops both levels")
    func secondLevelRefills() throws {
        var m = try Machine(mode: .x86_64, tlbCapacity: 4, secondLevelTLBCapacity: 64)
        let pages = (0..<8).map { 0x40_0000 + UInt64($0) << 12 }
        for (k, va) in pages.enumerated() { try m.map(va, to: 0xE000_0000 + UInt64(k) << 12, flags: [.writable, .user]) }
        for va in pages { _ = try m.touch(va) }    // eight pages: more than the first level holds
        let walks = m.mmu.walks, refills = m.mmu.secondLevelTLB.hits
        for (k, va) in pages.enumerated() { #expect(try m.touch(va) == 0xE000_0000 + UInt64(k) << 12) }
        #expect(m.mmu.walks == walks)
        #expect(m.mmu.secondLevelTLB.hits > refills)
        m.invalidatePage(pages[0])
        _ = try m.touch(pages[0])
        #expect(m.mmu.walks == walks + 1)
    }

    @Test("Without a first level there is no second level either")
    func noTLBAtAll() throws {
        let m = try Machine(mode: .i386, tlbCapacity: 0)
        #expect(m.mmu.tlb.capacity == 0 && m.mmu.secondLevelTLB.capacity == 0)
    }
}

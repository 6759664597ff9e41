import Testing
@testable import SelfMapPaging

/// The TLB model on its own: sets, least-recently-used replacement, invalidation.
struct TLBTests {
    /// Caches page `vpn` as frame `vpn` << 12, kernel-writable and dirty.
    func fill(_ tlb: inout TLB, _ vpn: UInt64) {
        tlb.insert(page: vpn, frame: vpn << 12, permissions: TLB.Permission.writable | TLB.Permission.dirty,
                   pageShift: 12, hostWord: -1)
    }

    func cached(_ tlb: inout TLB, _ vpn: UInt64) -> Bool { tlb.hit(page: vpn, .kernelRead) == vpn << 12 }

    @Test("A full set replaces its least recently used way", arguments: [1, 2, 4])
    func leastRecentlyUsedIsReplaced(ways: Int) {
        var tlb = TLB(capacity: ways)
        for vpn in 1...UInt64(ways) { fill(&tlb, vpn) }
        #expect(tlb.occupancy == ways)
        // Use every page but the second in reverse order: page 2 (or 1, with one way) is the oldest.
        for vpn in (1...UInt64(ways)).reversed() where vpn != 2 { #expect(cached(&tlb, vpn)) }
        fill(&tlb, 100)
        let evicted: UInt64 = ways == 1 ? 1 : 2
        #expect(!cached(&tlb, evicted))
        for vpn in 1...UInt64(ways) where vpn != evicted { #expect(cached(&tlb, vpn)) }
        #expect(cached(&tlb, 100))
        #expect(tlb.occupancy == ways)
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

    @Test("A write needs a cached dirty bit; a read does not")
    func writesNeedDirty() {
        var tlb = TLB(capacity: 4)
        tlb.insert(page: 7, frame: 0x7000, permissions: TLB.Permission.writable, pageShift: 12, hostWord: -1)
        #expect(tlb.hit(page: 7, .kernelWrite) == nil)
        #expect(tlb.hit(page: 7, .kernelRead) == 0x7000)
        #expect(tlb.hit(page: 7, Access(user: true)) == nil)
        #expect(tlb.hits == 1 && tlb.misses == 2)
    }
}

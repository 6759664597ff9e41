import Testing
import VRRP

struct TrackingTests {
    @Test func firstResultCountsAtOnceThenRiseAndFallApply() {
        var h = TrackedHealth(rise: 2, fall: 3)
        #expect(h.healthy == nil)
        var changes: [Bool] = []
        for result in [true, false, false, false, true, false, true, true] { changes.append(h.record(success: result)) }
        // first counts; fall 3 needs three failures; a failure resets the rise streak; rise 2.
        #expect(changes == [true, false, false, true, false, false, false, true])
        #expect(h.healthy == true)
    }

    @Test func weightsAndFaultsCombineAsKeepalivedDoes() {
        let policy = TrackingPolicy(basePriority: 100, items: [
            .init(name: "link", weight: 0), .init(name: "up", weight: 20), .init(name: "down", weight: -30),
        ])
        var health: [String: Bool] = ["link": true, "up": true]
        #expect(policy.evaluate { health[$0] } == .waiting)
        health["down"] = true
        #expect(policy.evaluate { health[$0] } == .priority(120))
        health["down"] = false
        health["up"] = false
        #expect(policy.evaluate { health[$0] } == .priority(70))
        health["link"] = false
        #expect(policy.evaluate { health[$0] } == .fault)
        let clamped = TrackingPolicy(basePriority: 250, items: [.init(name: "x", weight: 50)])
        #expect(clamped.evaluate { _ in true } == .priority(254))
        let owner = TrackingPolicy(basePriority: 255, items: [.init(name: "x", weight: -50)])
        #expect(owner.evaluate { _ in false } == .priority(255))
    }

    @Test func announcementsHaveTheWireLayout() {
        let mac: [UInt8] = [2, 0, 0, 0, 0, 1]
        let arp = VRRPAnnouncement.gratuitousARP(address: VRRPAddress(parsing: "192.0.2.100")!, mac: mac)
        #expect(arp == [0, 1, 8, 0, 6, 4, 0, 1] + mac + [192, 0, 2, 100] + [255, 255, 255, 255, 255, 255] + [192, 0, 2, 100])
        let na = VRRPAnnouncement.unsolicitedNeighborAdvertisement(address: VRRPAddress(parsing: "2001:db8:1::2")!, mac: mac)
        #expect(na.count == 32 && na[0] == 136 && na[4] == 0x20 && na[24] == 2 && na[25] == 1 && Array(na[26...]) == mac)
        #expect(VRRPAnnouncement.virtualMAC(virtualRouterID: 52, ipv6: true) == [0, 0, 0x5E, 0, 2, 52])
    }
}

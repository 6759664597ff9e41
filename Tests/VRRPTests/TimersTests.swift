import Testing
import VRRP

struct TimersTests {
    @Test func rfc5798DefaultsAtPriority100() {
        let t = VRRPTimers(priority: 100, advertisementInterval: .seconds(1))
        // (256 - 100) * 1 s / 256 = 0.609375 s
        #expect(t.skewTime == Microseconds(609_375))
        #expect(t.masterDownInterval == Microseconds(3_609_375))
        #expect(t.takeoverAfterShutdown == t.skewTime)
        #expect(t.earliestTakeoverAfterCrash == Microseconds(2_609_375))
    }

    @Test func v3SkewScalesWithTheInterval() {
        let t = VRRPTimers(version: .v3, priority: 100, advertisementInterval: .centiseconds(1))
        #expect(t.skewTime == Microseconds(6_093))   // 156 * 10000 / 256 = 6093.75, truncated
        #expect(t.masterDownInterval == Microseconds(36_093))
    }

    @Test func v2SkewIsInSecondsWhateverTheInterval() {
        let t = VRRPTimers(version: .v2, priority: 100, advertisementInterval: .seconds(3))
        #expect(t.skewTime == Microseconds(609_375))
        #expect(t.masterDownInterval == Microseconds(9_609_375))
    }

    @Test func higherPriorityMeansShorterSkew() {
        let owner = VRRPTimers(priority: 255, advertisementInterval: .seconds(1))
        let low = VRRPTimers(priority: 1, advertisementInterval: .seconds(1))
        #expect(owner.skewTime == Microseconds(3_906))
        #expect(low.skewTime == Microseconds(996_093))
        #expect(owner.masterDownInterval < low.masterDownInterval)
    }

    @Test func microsecondsPrintAsSeconds() {
        #expect(Microseconds(3_609_375).description == "3.609375")
        #expect(Microseconds(6_093).description == "0.006093")
        #expect(Microseconds(-5).description == "-0.000005")
    }

    @Test("The speaker's clock does not go back, and counts from boot, not from 1970")
    func monotonicClock() {
        let first = Microseconds.monotonicNow()
        let second = Microseconds.monotonicNow()
        #expect(first <= second)
        #expect(first.value > 0 && first < .seconds(10 * 365 * 86_400))
    }
}

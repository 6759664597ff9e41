import Testing
@testable import VRRP

/// Each rule of RFC 5798 §6.4 (and RFC 9568, keepalived's extensions) on virtual time.
struct StateMachineTests {
    static let me = VRRPAddress(bytes: [192, 0, 2, 10])!
    static let higherAddress = VRRPAddress(bytes: [192, 0, 2, 20])!
    static let lowerAddress = VRRPAddress(bytes: [192, 0, 2, 5])!
    static let vip = VRRPAddress(bytes: [192, 0, 2, 100])!

    /// A machine and its state, stepped by hand.
    struct Router {
        let machine: VRRPStateMachine
        var state: VRRPRouterState
        init(_ config: VRRPRouterConfig) {
            machine = VRRPStateMachine(config: config)
            state = machine.initialState()
        }
        @discardableResult
        mutating func on(_ event: VRRPEvent, at seconds: Double) -> [VRRPAction] {
            let (next, actions) = machine.step(state, event, now: Microseconds(Int64(seconds * 1_000_000)))
            state = next
            return actions
        }
        /// Delivers ticks at the deadlines until `seconds`, collecting the actions.
        mutating func run(until seconds: Double) -> [(Double, VRRPAction)] {
            var out: [(Double, VRRPAction)] = []
            let end = Microseconds(Int64(seconds * 1_000_000))
            while let due = state.nextDeadline, due <= end {
                for action in on(.tick, at: Double(due.value) / 1_000_000) { out.append((Double(due.value) / 1_000_000, action)) }
            }
            return out
        }
    }

    static func config(priority: UInt8 = 100, version: VRRPVersion = .v3, preempt: Bool = true,
                       preemptDelay: Int64 = 0, startsAsMaster: Bool = false) -> VRRPRouterConfig {
        VRRPRouterConfig(version: version, virtualRouterID: 52, priority: priority, advertisementInterval: .seconds(1),
                         primaryAddress: me, virtualAddresses: [vip], startsAsMaster: startsAsMaster,
                         preempt: preempt, preemptDelay: .seconds(preemptDelay))
    }

    static func ad(priority: UInt8, interval: Microseconds = .seconds(1), version: VRRPVersion = .v3) -> VRRPAdvertisement {
        VRRPAdvertisement(version: version, virtualRouterID: 52, priority: priority, advertisementInterval: interval, addresses: [vip])
    }

    static let becomeMaster: [VRRPAction] = [.sendAdvertisement(priority: 100), .addVirtualAddresses,
                                             .announceVirtualAddresses, .transition(from: .backup, to: .master)]

    @Test func startupEntersBackupWithMasterDownInterval() {
        var r = Router(Self.config())
        #expect(r.on(.startup, at: 0) == [.transition(from: .initialize, to: .backup)])
        // 3 × 1 s + (256 − 100) / 256 s
        #expect(r.state.masterDownDeadline == Microseconds(3_609_375))
        #expect(r.state.advertisementDeadline == nil)
    }

    @Test func addressOwnerBecomesMasterAtOnce() {
        var r = Router(Self.config(priority: 255))
        #expect(r.on(.startup, at: 0) == [.sendAdvertisement(priority: 255), .addVirtualAddresses,
                                          .announceVirtualAddresses, .transition(from: .initialize, to: .master)])
        #expect(r.state.advertisementDeadline == .seconds(1))
    }

    @Test func stateMasterWaitsOneIntervalNotThree() {
        var r = Router(Self.config(startsAsMaster: true))
        r.on(.startup, at: 0)
        #expect(r.state.role == .backup)
        let deadline = try! #require(r.state.masterDownDeadline)
        #expect(deadline > .seconds(1) && deadline < Microseconds(1_010_000))
    }

    @Test func backupTakesOverWhenTheMasterDownTimerFires() {
        var r = Router(Self.config())
        r.on(.startup, at: 0)
        let actions = r.run(until: 3.609375)
        #expect(actions.map(\.1) == Self.becomeMaster)
        #expect(actions.first?.0 == 3.609375)
        #expect(r.state.masterAddress == Self.me)
    }

    @Test func masterAdvertisesEveryInterval() {
        var r = Router(Self.config(priority: 255))
        r.on(.startup, at: 0)
        let sends = r.run(until: 3.5)
        #expect(sends.map(\.0) == [1, 2, 3])
        #expect(sends.allSatisfy { $0.1 == .sendAdvertisement(priority: 255) })
    }

    @Test func advertisementFromAHigherMasterResetsTheDownTimer() {
        var r = Router(Self.config())
        r.on(.startup, at: 0)
        #expect(r.on(.advertisement(Self.ad(priority: 200), source: Self.higherAddress), at: 3) == [])
        #expect(r.state.masterDownDeadline == Microseconds(6_609_375))
        #expect(r.state.masterAddress == Self.higherAddress)
    }

    @Test func v3BackupLearnsTheMastersInterval() {
        var r = Router(Self.config())
        r.on(.startup, at: 0)
        r.on(.advertisement(Self.ad(priority: 200, interval: .centiseconds(50)), source: Self.higherAddress), at: 1)
        #expect(r.state.masterAdvertisementInterval == .centiseconds(50))
        // 3 × 0.5 s + (156 × 0.5 s) / 256
        #expect(r.state.masterDownDeadline == .seconds(1) + Microseconds(1_500_000 + 304_687))
    }

    @Test func v2BackupKeepsItsOwnInterval() {
        var r = Router(Self.config(version: .v2))
        r.on(.startup, at: 0)
        r.on(.advertisement(Self.ad(priority: 200, interval: .seconds(2), version: .v2), source: Self.higherAddress), at: 1)
        #expect(r.state.masterAdvertisementInterval == .seconds(1))
    }

    @Test func preemptingBackupIgnoresALowerMasterAndTakesOver() {
        var r = Router(Self.config())
        r.on(.startup, at: 0)
        r.on(.advertisement(Self.ad(priority: 50), source: Self.lowerAddress), at: 1)
        r.on(.advertisement(Self.ad(priority: 50), source: Self.lowerAddress), at: 2)
        #expect(r.state.masterDownDeadline == Microseconds(3_609_375))
        #expect(r.run(until: 4).map(\.1) == Self.becomeMaster)
    }

    @Test func nopreemptBackupAcceptsALowerMaster() {
        var r = Router(Self.config(preempt: false))
        r.on(.startup, at: 0)
        r.on(.advertisement(Self.ad(priority: 50), source: Self.lowerAddress), at: 3)
        #expect(r.state.masterDownDeadline == .seconds(3) + Microseconds(3_609_375))
        #expect(r.run(until: 6).isEmpty)
        #expect(r.state.role == .backup)
    }

    @Test func preemptDelayToleratesALowerMasterForTheDelay() {
        var r = Router(Self.config(preemptDelay: 10))
        r.on(.startup, at: 0)
        for t in 1...9 { r.on(.advertisement(Self.ad(priority: 50), source: Self.lowerAddress), at: Double(t)) }
        #expect(r.state.role == .backup)
        #expect(r.state.masterDownDeadline == .seconds(9) + Microseconds(3_609_375))
        // From 10 s on, the lower master's advertisements are ignored and the timer runs out.
        r.on(.advertisement(Self.ad(priority: 50), source: Self.lowerAddress), at: 10)
        r.on(.advertisement(Self.ad(priority: 50), source: Self.lowerAddress), at: 11)
        #expect(r.run(until: 12.7).map(\.1) == Self.becomeMaster)
    }

    @Test func priorityZeroMakesTheBackupTakeOverAfterSkewTime() {
        var r = Router(Self.config())
        r.on(.startup, at: 0)
        r.on(.advertisement(Self.ad(priority: 200), source: Self.higherAddress), at: 1)
        r.on(.advertisement(Self.ad(priority: 0), source: Self.higherAddress), at: 1.5)
        #expect(r.state.masterDownDeadline == Microseconds(1_500_000 + 609_375))
        #expect(r.run(until: 2.2).first?.0 == 2.109375)
    }

    @Test func masterStepsDownForAHigherPriority() {
        var r = Router(Self.config(priority: 255))
        r.on(.startup, at: 0)
        var r2 = Router(Self.config())
        r2.on(.startup, at: 0)
        _ = r2.run(until: 4)
        let actions = r2.on(.advertisement(Self.ad(priority: 200), source: Self.lowerAddress), at: 5)
        #expect(actions == [.removeVirtualAddresses, .transition(from: .master, to: .backup)])
        #expect(r2.state.advertisementDeadline == nil)
        #expect(r2.state.masterDownDeadline == .seconds(5) + Microseconds(3_609_375))
        #expect(r2.state.masterAddress == Self.lowerAddress)
    }

    @Test func equalPriorityIsBrokenByThePrimaryAddress() {
        var r = Router(Self.config())
        r.on(.startup, at: 0)
        _ = r.run(until: 4)
        // A lower address at the same priority loses: we re-advertise at once (RFC 9568).
        #expect(r.on(.advertisement(Self.ad(priority: 100), source: Self.lowerAddress), at: 4.2) == [.sendAdvertisement(priority: 100)])
        #expect(r.state.advertisementDeadline == Microseconds(5_200_000))
        // A higher address wins.
        #expect(r.on(.advertisement(Self.ad(priority: 100), source: Self.higherAddress), at: 4.5)
                == [.removeVirtualAddresses, .transition(from: .master, to: .backup)])
    }

    @Test func masterAnswersALowerPriorityAdvertisementAtOnce() {
        var r = Router(Self.config())
        r.on(.startup, at: 0)
        _ = r.run(until: 4)
        #expect(r.on(.advertisement(Self.ad(priority: 50), source: Self.higherAddress), at: 4.3) == [.sendAdvertisement(priority: 100)])
        #expect(r.state.role == .master)
    }

    @Test func masterAnswersPriorityZeroWithAnAdvertisement() {
        var r = Router(Self.config(priority: 255))
        r.on(.startup, at: 0)
        #expect(r.on(.advertisement(Self.ad(priority: 0), source: Self.lowerAddress), at: 0.4) == [.sendAdvertisement(priority: 255)])
        #expect(r.state.advertisementDeadline == Microseconds(1_400_000))
    }

    @Test func shutdownOfAMasterSendsPriorityZeroAndDropsTheAddresses() {
        var r = Router(Self.config(priority: 255))
        r.on(.startup, at: 0)
        #expect(r.on(.shutdown, at: 2) == [.sendAdvertisement(priority: 0), .removeVirtualAddresses,
                                           .transition(from: .master, to: .initialize)])
        #expect(r.state.nextDeadline == nil)
        var b = Router(Self.config())
        b.on(.startup, at: 0)
        #expect(b.on(.shutdown, at: 1) == [.transition(from: .backup, to: .initialize)])
    }

    @Test func faultTakesAMasterDownAndRecoveryReturnsToBackup() {
        var r = Router(Self.config(priority: 255))
        r.on(.startup, at: 0)
        #expect(r.on(.fault(true), at: 1) == [.sendAdvertisement(priority: 0), .removeVirtualAddresses,
                                              .transition(from: .master, to: .fault)])
        #expect(r.on(.advertisement(Self.ad(priority: 200), source: Self.lowerAddress), at: 1.5) == [])
        #expect(r.run(until: 10).isEmpty)
        // The owner goes straight back to MASTER; a normal router to BACKUP.
        #expect(r.on(.fault(false), at: 10).last == .transition(from: .fault, to: .master))
        var b = Router(Self.config())
        b.on(.fault(true), at: 0)
        #expect(b.on(.startup, at: 0) == [.transition(from: .initialize, to: .fault)])
        #expect(b.on(.fault(false), at: 2) == [.transition(from: .fault, to: .backup)])
        #expect(b.state.masterDownDeadline == .seconds(2) + Microseconds(3_609_375))
    }

    @Test func priorityChangeIsAdvertisedAtOnceByAMaster() {
        var r = Router(Self.config())
        r.on(.startup, at: 0)
        _ = r.run(until: 4)
        #expect(r.on(.priorityChanged(80), at: 4.1) == [.sendAdvertisement(priority: 80)])
        #expect(r.state.effectivePriority == 80)
        // The owner's priority is fixed.
        var owner = Router(Self.config(priority: 255))
        owner.on(.startup, at: 0)
        #expect(owner.on(.priorityChanged(200), at: 1) == [])
    }

    @Test func lowerEffectivePriorityLengthensSkewTime() {
        var r = Router(Self.config())
        r.on(.priorityChanged(1), at: 0)
        r.on(.startup, at: 0)
        // 3 s + 255/256 s
        #expect(r.state.masterDownDeadline == Microseconds(3_996_093))
    }
}

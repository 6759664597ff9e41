/// The states of a virtual router: RFC 5798's three, plus keepalived's FAULT.
public enum VRRPRole: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case initialize = "INIT"
    case backup = "BACKUP"
    case master = "MASTER"
    /// A tracked script or interface failed: no advertisements, no addresses, no election.
    case fault = "FAULT"

    public var description: String { rawValue }
}

/// The configuration the state machine needs. Everything here is fixed for the life of an
/// instance; what changes (the effective priority, faults) arrives as events.
public struct VRRPRouterConfig: Sendable, Hashable {
    public var version: VRRPVersion
    public var virtualRouterID: UInt8
    /// 1–254, or 255 for the address owner.
    public var priority: UInt8
    public var advertisementInterval: Microseconds
    /// The router's own address on the interface: the source of its advertisements and the
    /// tie-break when two masters have the same priority.
    public var primaryAddress: VRRPAddress
    public var virtualAddresses: [VRRPAddress]
    /// keepalived's `state MASTER`: wait one interval (not three) before claiming mastership.
    public var startsAsMaster: Bool
    /// False is keepalived's `nopreempt`.
    public var preempt: Bool
    /// keepalived's `preempt_delay`: lower-priority masters are tolerated this long after startup
    /// or after the first one is seen.
    public var preemptDelay: Microseconds
    /// RFC 5798 Accept_Mode: a non-owner master accepts packets for the virtual addresses.
    public var acceptMode: Bool

    public init(version: VRRPVersion = .v3, virtualRouterID: UInt8, priority: UInt8 = 100,
                advertisementInterval: Microseconds = .seconds(1), primaryAddress: VRRPAddress,
                virtualAddresses: [VRRPAddress], startsAsMaster: Bool = false, preempt: Bool = true,
                preemptDelay: Microseconds = Microseconds(0), acceptMode: Bool = false) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.advertisementInterval = advertisementInterval
        self.primaryAddress = primaryAddress
        self.virtualAddresses = virtualAddresses
        self.startsAsMaster = startsAsMaster
        self.preempt = preempt
        self.preemptDelay = preemptDelay
        self.acceptMode = acceptMode
    }

    public var isAddressOwner: Bool { priority == 255 }
}

/// What happens to a virtual router.
public enum VRRPEvent: Sendable, Hashable {
    case startup
    /// The router is stopping (SIGTERM): a master sends priority 0.
    case shutdown
    /// Time passed; due timers fire.
    case tick
    /// An advertisement that passed ``VRRPReceiveFilter``, with the source address of its IP header.
    case advertisement(VRRPAdvertisement, source: VRRPAddress)
    /// The effective priority changed (track script weights). Ignored for the address owner.
    case priorityChanged(UInt8)
    /// A tracked script or interface failed (true) or recovered (false).
    case fault(Bool)
}

/// What the speaker must do, in order.
public enum VRRPAction: Sendable, Hashable {
    /// Send an advertisement with this priority and the configured addresses.
    case sendAdvertisement(priority: UInt8)
    case addVirtualAddresses
    case removeVirtualAddresses
    /// Gratuitous ARP for IPv4, unsolicited neighbour advertisements for IPv6.
    case announceVirtualAddresses
    /// The state changed: run the notify scripts.
    case transition(from: VRRPRole, to: VRRPRole)
}

/// Everything that changes while a virtual router runs. All times are absolute, on the clock the
/// caller passes as `now`.
public struct VRRPRouterState: Sendable, Hashable {
    public var role: VRRPRole = .initialize
    public var effectivePriority: UInt8
    /// Learned from the master's advertisements (v3); the configured interval until then.
    public var masterAdvertisementInterval: Microseconds
    public var masterDownDeadline: Microseconds?
    public var advertisementDeadline: Microseconds?
    /// With `preempt_delay`: when a lower-priority master stops being tolerated.
    public var preemptAllowedAt: Microseconds?
    /// The source address of the last advertisement a backup accepted.
    public var masterAddress: VRRPAddress?
    public var faulted = false
    public var stopped = false

    public init(config: VRRPRouterConfig) {
        effectivePriority = config.priority
        masterAdvertisementInterval = config.advertisementInterval
    }

    /// The earliest deadline: deliver ``VRRPEvent/tick`` then.
    public var nextDeadline: Microseconds? {
        switch (masterDownDeadline, advertisementDeadline) {
        case let (a?, b?): return min(a, b)
        case let (a?, nil): return a
        case let (nil, b?): return b
        case (nil, nil): return nil
        }
    }
}

/// The RFC 5798/9568 state machine with keepalived's extensions, as a pure function.
public struct VRRPStateMachine: Sendable, Hashable {
    public let config: VRRPRouterConfig

    public init(config: VRRPRouterConfig) { self.config = config }

    public func initialState() -> VRRPRouterState { VRRPRouterState(config: config) }

    /// Skew_Time for the current priority and the master's interval.
    public func timers(_ state: VRRPRouterState) -> VRRPTimers {
        VRRPTimers(version: config.version, priority: state.effectivePriority,
                   advertisementInterval: state.masterAdvertisementInterval)
    }

    /// Applies one event at time `now`.
    public func step(_ state: VRRPRouterState, _ event: VRRPEvent, now: Microseconds) -> (VRRPRouterState, [VRRPAction]) {
        var s = state
        var actions: [VRRPAction] = []
        switch event {
        case .startup:
            guard s.role == .initialize else { break }
            s.stopped = false
            s.preemptAllowedAt = config.preemptDelay.value > 0 ? now + config.preemptDelay : nil
            if s.faulted { enter(.fault, &s, &actions) } else { leaveInitialize(&s, &actions, now: now) }
        case .shutdown:
            if s.role == .master {
                actions.append(.sendAdvertisement(priority: 0))
                actions.append(.removeVirtualAddresses)
            }
            s.stopped = true
            enter(.initialize, &s, &actions)
        case .tick:
            if s.role == .backup, let due = s.masterDownDeadline, due <= now {
                becomeMaster(&s, &actions, now: now)
            } else if s.role == .master, let due = s.advertisementDeadline, due <= now {
                actions.append(.sendAdvertisement(priority: s.effectivePriority))
                s.advertisementDeadline = now + config.advertisementInterval
            }
        case .advertisement(let ad, let source):
            receive(ad, source: source, &s, &actions, now: now)
        case .priorityChanged(let priority):
            guard !config.isAddressOwner, priority != s.effectivePriority else { break }
            s.effectivePriority = max(1, min(254, priority))
            if s.role == .master {
                // Tell the backups at once, so a higher one can preempt without waiting.
                actions.append(.sendAdvertisement(priority: s.effectivePriority))
                s.advertisementDeadline = now + config.advertisementInterval
            }
        case .fault(let failed):
            guard failed != s.faulted else { break }
            s.faulted = failed
            if failed {
                if s.role == .master {
                    actions.append(.sendAdvertisement(priority: 0))
                    actions.append(.removeVirtualAddresses)
                }
                if s.role != .initialize { enter(.fault, &s, &actions) }  // before startup: startup enters FAULT
            } else if s.role == .fault {
                leaveInitialize(&s, &actions, now: now)
            }
        }
        return (s, actions)
    }

    /// RFC 5798 §6.4.1.
    private func leaveInitialize(_ s: inout VRRPRouterState, _ actions: inout [VRRPAction], now: Microseconds) {
        s.masterAdvertisementInterval = config.advertisementInterval
        if config.isAddressOwner {
            becomeMaster(&s, &actions, now: now)
            return
        }
        let t = timers(s)
        // keepalived: `state MASTER` waits one interval plus a minimal skew instead of three.
        let wait = config.startsAsMaster ? t.advertisementInterval + Microseconds(t.skewTime.value / 256 + 1) : t.masterDownInterval
        s.masterDownDeadline = now + wait
        s.advertisementDeadline = nil
        enter(.backup, &s, &actions)
    }

    private func becomeMaster(_ s: inout VRRPRouterState, _ actions: inout [VRRPAction], now: Microseconds) {
        actions.append(.sendAdvertisement(priority: s.effectivePriority))
        actions.append(.addVirtualAddresses)
        actions.append(.announceVirtualAddresses)
        s.advertisementDeadline = now + config.advertisementInterval
        s.masterDownDeadline = nil
        s.masterAddress = config.primaryAddress
        enter(.master, &s, &actions)
    }

    private func enter(_ role: VRRPRole, _ s: inout VRRPRouterState, _ actions: inout [VRRPAction]) {
        if role != .backup && role != .master {
            s.masterDownDeadline = nil
            s.advertisementDeadline = nil
        }
        if role == .initialize || role == .fault { s.masterAddress = nil }
        if role != s.role { actions.append(.transition(from: s.role, to: role)) }
        s.role = role
    }

    /// RFC 5798 §6.4.2 and §6.4.3, RFC 9568's re-advertisement, keepalived's preempt_delay.
    private func receive(_ ad: VRRPAdvertisement, source: VRRPAddress, _ s: inout VRRPRouterState,
                         _ actions: inout [VRRPAction], now: Microseconds) {
        switch s.role {
        case .backup:
            if ad.priority == 0 {
                // The master is leaving: take over after Skew_Time instead of Master_Down_Interval.
                s.masterDownDeadline = now + timers(s).skewTime
                return
            }
            let lower = ad.priority < s.effectivePriority
            if lower && config.preempt {
                if config.preemptDelay.value > 0 {
                    let allowed = s.preemptAllowedAt ?? (now + config.preemptDelay)
                    s.preemptAllowedAt = allowed
                    if now < allowed { acceptMaster(ad, source: source, &s, now: now) }
                }
                return  // discard: the down timer runs out and this router preempts
            }
            acceptMaster(ad, source: source, &s, now: now)
        case .master:
            if ad.priority == 0 {
                actions.append(.sendAdvertisement(priority: s.effectivePriority))
                s.advertisementDeadline = now + config.advertisementInterval
                return
            }
            let higher = ad.priority > s.effectivePriority
                || (ad.priority == s.effectivePriority && config.primaryAddress < source)
            if higher {
                actions.append(.removeVirtualAddresses)
                s.advertisementDeadline = nil
                s.masterAdvertisementInterval = config.version == .v3 ? ad.advertisementInterval : config.advertisementInterval
                s.masterDownDeadline = now + timers(s).masterDownInterval
                s.masterAddress = source
                enter(.backup, &s, &actions)
            } else if source != config.primaryAddress {
                // RFC 9568: answer a lower-priority master at once so that it steps down now.
                actions.append(.sendAdvertisement(priority: s.effectivePriority))
                s.advertisementDeadline = now + config.advertisementInterval
            }
        case .initialize, .fault:
            break
        }
    }

    private func acceptMaster(_ ad: VRRPAdvertisement, source: VRRPAddress, _ s: inout VRRPRouterState, now: Microseconds) {
        if config.version == .v3 { s.masterAdvertisementInterval = ad.advertisementInterval }
        s.masterDownDeadline = now + timers(s).masterDownInterval
        s.masterAddress = source
    }
}

import CLinuxShims
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A health check from outside VRRP that an instance depends on, run in the speaker's loop: at
/// least every `interval`, and whenever one of `descriptors` is readable. `false` puts the
/// instance in FAULT, as a failing `track_script` of weight 0 does; nil means not known yet.
public struct VRRPInstanceMonitor: Sendable {
    public var instance: String
    public var name: String
    public var descriptors: [Int32]
    public var interval: Microseconds
    /// Called on the speaker's thread; it must not block. Under `vrrp_rt_priority` it runs at
    /// normal scheduling, so its work does not count against RLIMIT_RTTIME.
    public var poll: @Sendable (_ now: Microseconds) -> Bool?

    public init(instance: String, name: String, descriptors: [Int32] = [], interval: Microseconds,
                poll: @escaping @Sendable (Microseconds) -> Bool?) {
        self.instance = instance
        self.name = name
        self.descriptors = descriptors
        self.interval = interval
        self.poll = poll
    }
}

/// How a speaker runs, beyond what keepalived.conf says.
public struct VRRPSpeakerOptions: Sendable {
    /// The Unix socket `labctl vrrp status` reads; nil for none.
    public var controlSocketPath: String?
    /// One line per event, keepalived's wording.
    public var log: @Sendable (String) -> Void
    /// Called after every state change (after the VIPs are added or removed), before the notify
    /// scripts are queued. STOP is `.initialize`.
    /// `now` is the speaker's monotonic clock, as ``VRRPInstanceMonitor/poll`` gets it. Like a
    /// poll, it runs at normal scheduling under `vrrp_rt_priority`.
    public var onTransition: @Sendable (_ instance: String, _ from: VRRPRole, _ to: VRRPRole, _ now: Microseconds) -> Void
    /// For v3 over IPv4: include the pseudo-header in the checksum (RFC 5798) or not.
    public var ipv4PseudoHeader: VRRPCodec.IPv4PseudoHeader
    /// How long to wait at startup for an interface's address (IPv6 link-local addresses are
    /// usable only after duplicate address detection).
    public var addressWait: Microseconds
    /// Health checks from outside VRRP, such as a WireGuard interface's.
    public var monitors: [VRRPInstanceMonitor]

    public init(controlSocketPath: String? = nil, log: @escaping @Sendable (String) -> Void = { _ in },
                onTransition: @escaping @Sendable (String, VRRPRole, VRRPRole, Microseconds) -> Void = { _, _, _, _ in },
                ipv4PseudoHeader: VRRPCodec.IPv4PseudoHeader = .included, addressWait: Microseconds = .seconds(5),
                monitors: [VRRPInstanceMonitor] = []) {
        self.monitors = monitors
        self.controlSocketPath = controlSocketPath
        self.log = log
        self.onTransition = onTransition
        self.ipv4PseudoHeader = ipv4PseudoHeader
        self.addressWait = addressWait
    }
}

/// A keepalived-compatible VRRP speaker: raw sockets, VIPs through rtnetlink, gratuitous ARP and
/// neighbour advertisements, track and notify scripts, and a status socket. `run()` returns after
/// SIGTERM or SIGINT, once every master has sent priority 0 and removed its addresses.
public struct VRRPSpeaker: Sendable {
    public let config: KeepalivedConfig
    public let options: VRRPSpeakerOptions

    /// Checks what can be checked before anything is touched: interfaces and script security.
    public init(config: KeepalivedConfig, options: VRRPSpeakerOptions) throws {
        guard !config.instances.isEmpty else { throw KeepalivedConfigError(nil, "no vrrp_instance to run") }
        let interfaces = try InterfaceInfo.all()
        for instance in config.instances {
            guard interfaces[instance.interface] != nil else {
                throw KeepalivedConfigError(instance.location, "vrrp_instance \(instance.name): no interface \(instance.interface)")
            }
            for vip in instance.virtualAddresses {
                if let device = vip.device, interfaces[device] == nil {
                    throw KeepalivedConfigError(instance.location, "vrrp_instance \(instance.name): no interface \(device) for \(vip)")
                }
            }
            for tracked in instance.trackInterfaces where interfaces[tracked.name] == nil {
                throw KeepalivedConfigError(tracked.location, "track_interface \(tracked.name): no such interface")
            }
            if let vmac = instance.virtualMACInterface, let existing = interfaces[vmac.interfaceName], existing.mac != vmac.address {
                throw KeepalivedConfigError(instance.location, "vrrp_instance \(instance.name): use_vmac: \(vmac.interfaceName) exists and does not have the virtual MAC \(vmac.addressText)")
            }
        }
        if config.global.enableScriptSecurity {
            let defaultUser = try config.global.scriptUser.map { try ScriptRunner.lookup(user: $0, group: config.global.scriptGroup) }
            func check(_ line: String, user: (uid: UInt32, gid: UInt32)?, at location: ConfigLocation) throws {
                let words = try KeepalivedCommandLine.words(line, location)
                do { try ScriptRunner.checkSecurity(words[0], runAsUID: (user ?? defaultUser)?.uid ?? 0) } catch let error as ScriptSecurityError {
                    throw KeepalivedConfigError(location, "\(error) (enable_script_security)")
                }
            }
            for script in config.scripts {
                let user = try script.user.map { try ScriptRunner.lookup(user: $0, group: script.group) }
                try check(script.command.joined(separator: " "), user: user, at: script.location)
            }
            for instance in config.instances {
                for line in [instance.notify, instance.notifyMaster, instance.notifyBackup, instance.notifyFault, instance.notifyStop].compactMap({ $0 }) {
                    try check(line, user: nil, at: instance.location)
                }
            }
        }
        self.config = config
        self.options = options
    }

    public func run() throws {
        let engine = try SpeakerEngine(config: config, options: options)
        try engine.run()
    }
}

extension Microseconds {
    /// Now on the clock the speaker runs on (CLOCK_MONOTONIC): the `now` it hands to monitors
    /// and transition handlers.
    public static func monotonicNow() -> Microseconds {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Microseconds(Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }
}

/// Holds the sockets of one interface and family.
final class SocketPair {
    let receive: VRRPSocket
    let send: VRRPSocket
    /// The instance for each virtual router ID on this socket, or nil.
    var instanceByRouterID = [Int?](repeating: nil, count: 256)
    var strays = VRRPDiscardCounters()
    init(receive: consuming VRRPSocket, send: consuming VRRPSocket) {
        self.receive = receive
        self.send = send
    }
}

/// The descriptors the loop polls, in a fixed order: the signalfd, the control socket if any, the
/// receiving sockets, then the monitors' descriptors. Built once, so a wake-up allocates nothing.
struct PollSet {
    var descriptors: [pollfd]
    let socketBase: Int
    let monitorBase: Int
    /// The monitor of each descriptor from `monitorBase` on.
    let monitorOfDescriptor: [Int]

    init(signal: Int32, control: Int32, sockets: [Int32], monitors: [[Int32]]) {
        func watch(_ fd: Int32) -> pollfd { pollfd(fd: fd, events: Int16(POLLIN), revents: 0) }
        descriptors = [watch(signal)]
        if control >= 0 { descriptors.append(watch(control)) }
        socketBase = descriptors.count
        descriptors += sockets.map(watch)
        monitorBase = descriptors.count
        monitorOfDescriptor = monitors.enumerated().flatMap { k, fds in fds.map { _ in k } }
        descriptors += monitors.flatMap { $0.map(watch) }
    }
}

/// The running state of one instance.
struct RunningInstance {
    var config: KeepalivedConfig.Instance
    var machine: VRRPStateMachine
    var state: VRRPRouterState
    var filter: VRRPReceiveFilter
    var policy: TrackingPolicy
    var socket: Int
    var started = false
    var sent: UInt64 = 0
    var received: UInt64 = 0
    var transitions: UInt64 = 0
}

/// A track script's schedule and health.
struct RunningScript {
    var script: KeepalivedConfig.TrackScript
    var health: TrackedHealth
    var user: (uid: UInt32, gid: UInt32)
    var nextRun: Microseconds
    var pid: pid_t?
    var killAt: Microseconds?
}

/// The event loop. Single-threaded: one poll over the VRRP sockets, a signalfd and the control socket.
final class SpeakerEngine {
    let options: VRRPSpeakerOptions
    let global: KeepalivedConfig.GlobalDefinitions
    var instances: [RunningInstance] = []
    var sockets: [SocketPair] = []
    var scripts: [String: RunningScript] = [:]
    var monitorHealth: [Bool?]
    var monitorDue: [Microseconds]
    /// The SCHED_RR priority the loop runs at, once `run` has applied it.
    var realTimePriority: Int?
    var interfaceHealth: [String: Bool] = [:]
    var links: LinkControl
    let announcer: AnnouncementSocket
    var notifyQueue: [[String]] = []
    var notifyPID: pid_t?
    let signalDescriptor: Int32
    var controlDescriptor: Int32 = -1
    var stopping = false
    var nextInterfaceCheck = Microseconds(0)
    var buffer = [UInt8](repeating: 0, count: 65536)
    var pollSet = PollSet(signal: -1, control: -1, sockets: [], monitors: [])
    var ownedVirtualMACs: [(name: String, index: Int32)] = []
    var savedSysctls: [(path: String, value: Int)] = []
    let defaultUser: (uid: UInt32, gid: UInt32)

    init(config: KeepalivedConfig, options: VRRPSpeakerOptions) throws {
        self.options = options
        global = config.global
        monitorHealth = Array(repeating: nil, count: options.monitors.count)
        monitorDue = Array(repeating: Microseconds(0), count: options.monitors.count)
        for monitor in options.monitors where !config.instances.contains(where: { $0.name == monitor.instance }) {
            throw KeepalivedConfigError(nil, "monitor \(monitor.name): no vrrp_instance \(monitor.instance)")
        }
        links = try LinkControl()
        announcer = try AnnouncementSocket()
        defaultUser = try config.global.scriptUser.map { try ScriptRunner.lookup(user: $0, group: config.global.scriptGroup) } ?? (0, 0)

        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in [SIGTERM, SIGINT, SIGCHLD, SIGHUP] { sigaddset(&mask, signal) }
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        signal(SIGPIPE, SIG_IGN)
        signalDescriptor = signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard signalDescriptor >= 0 else { throw VRRPSystemError.last("signalfd") }

        let start = Microseconds.monotonicNow()
        for script in config.scripts {
            let user = try script.user.map { try ScriptRunner.lookup(user: $0, group: script.group) } ?? defaultUser
            scripts[script.name] = RunningScript(script: script, health: TrackedHealth(rise: script.rise, fall: script.fall),
                                                 user: user, nextRun: start)
        }
        for instance in config.instances {
            if let vmac = instance.virtualMACInterface { try prepare(vmac, for: instance) }
            let (socketIndex, primary) = try openSockets(for: instance)
            let machineConfig = VRRPRouterConfig(
                version: instance.version, virtualRouterID: instance.virtualRouterID, priority: instance.priority,
                advertisementInterval: instance.advertisementInterval, primaryAddress: primary,
                virtualAddresses: instance.virtualAddresses.map(\.address), startsAsMaster: instance.state == .master,
                preempt: instance.preempt, preemptDelay: instance.preemptDelay, acceptMode: instance.accept)
            let machine = VRRPStateMachine(config: machineConfig)
            let auth = instance.authenticationPassword ?? []
            let filter = VRRPReceiveFilter(version: instance.version, virtualRouterID: instance.virtualRouterID, isIPv6: instance.isIPv6,
                                           advertisementInterval: instance.advertisementInterval,
                                           authenticationType: auth.isEmpty ? 0 : 1, authenticationData: auth)
            var items = [TrackingPolicy.Item(name: "interface:" + instance.interface, weight: 0)]
            for tracked in instance.trackInterfaces {
                items.append(.init(name: "interface:" + tracked.name, weight: tracked.weight ?? 0))
            }
            for tracked in instance.trackScripts {
                items.append(.init(name: "script:" + tracked.name, weight: tracked.weight ?? scripts[tracked.name]!.script.weight))
            }
            for (k, monitor) in options.monitors.enumerated() where monitor.instance == instance.name {
                items.append(.init(name: "monitor:\(k)", weight: 0))
            }
            sockets[socketIndex].instanceByRouterID[Int(instance.virtualRouterID)] = instances.count
            instances.append(RunningInstance(config: instance, machine: machine, state: machine.initialState(), filter: filter,
                                             policy: TrackingPolicy(basePriority: instance.priority, items: items), socket: socketIndex))
        }
        // Addresses left behind by an earlier run that was killed.
        for instance in instances { removeAddresses(instance.config) }
        if let path = options.controlSocketPath { controlDescriptor = try VRRPControlSocket.listen(path) }
    }

    deinit {
        releaseVirtualMACs()
        close(signalDescriptor)
        if controlDescriptor >= 0 {
            close(controlDescriptor)
            if let path = options.controlSocketPath { unlink(path) }
        }
    }

    /// The socket pair for the instance's interface and primary address (the unicast source, or
    /// the interface's first address of the family), waiting until that address can be bound:
    /// a tentative IPv6 link-local address cannot be, until duplicate address detection ends.
    /// With `use_vmac`, the primary address is the parent interface's, and the sockets are on the
    /// virtual MAC interface (an IPv6 one gets the parent's link-local address, deprecated).
    private func openSockets(for instance: KeepalivedConfig.Instance) throws -> (socket: Int, primary: VRRPAddress) {
        let deadline = Microseconds.monotonicNow() + options.addressWait
        while true {
            let parent = try InterfaceInfo.named(instance.interface)
            var info = instance.virtualMAC == nil ? parent : try InterfaceInfo.named(instance.vrrpInterface)
            if let primary = instance.unicastSource ?? (instance.isIPv6 ? parent.ipv6LinkLocal.first : parent.ipv4.first) {
                if instance.virtualMAC != nil && primary.isIPv6 && !info.ipv6LinkLocal.contains(primary) {
                    try links.add(primary, prefixLength: 64, interfaceIndex: info.index, deprecated: true)
                    info = try InterfaceInfo.named(instance.vrrpInterface)
                }
                if let i = sockets.firstIndex(where: { $0.send.interfaceIndex == info.index && $0.send.source == primary }) {
                    return (i, primary)
                }
                if let pair = try? SocketPair(receive: VRRPSocket(interface: info, ipv6: instance.isIPv6, source: nil),
                                              send: VRRPSocket(interface: info, ipv6: instance.isIPv6, source: primary)) {
                    sockets.append(pair)
                    return (sockets.count - 1, primary)
                }
            }
            guard Microseconds.monotonicNow() < deadline else {
                throw KeepalivedConfigError(instance.location, "vrrp_instance \(instance.name): \(instance.interface) has no usable \(instance.unicastSource.map { "address \($0)" } ?? (instance.isIPv6 ? "IPv6 link-local address" : "IPv4 address"))")
            }
            usleep(50_000)
        }
    }

    // MARK: virtual MAC interfaces

    /// Creates (or adopts, after a crash) the macvlan of `use_vmac` and sets it up as keepalived
    /// does; undone by ``releaseVirtualMACs()``.
    private func prepare(_ vmac: VRRPVirtualMAC, for instance: KeepalivedConfig.Instance) throws {
        let interfaces = try InterfaceInfo.all()
        if interfaces[vmac.interfaceName] == nil {
            guard let parent = interfaces[instance.interface] else { throw VRRPSystemError("interface \(instance.interface)", .operationNotSupportedByDevice) }
            try links.createVirtualMAC(vmac, parentIndex: parent.index)
            options.log("(\(instance.name)) created \(vmac.interfaceName) with MAC \(vmac.addressText) on \(instance.interface)")
        }
        let index = try InterfaceInfo.named(vmac.interfaceName).index
        ownedVirtualMACs.append((vmac.interfaceName, index))
        try links.disableAddressGeneration(interfaceIndex: index, name: vmac.interfaceName)
        if !instance.isIPv6 {
            for setting in VRRPVirtualMAC.interfaceSettings { try setSysctl("ipv4/conf/\(vmac.interfaceName)/\(setting.key)", setting.value, restore: false) }
            for setting in VRRPVirtualMAC.parentSettings { try setSysctl("ipv4/conf/\(instance.interface)/\(setting.key)", setting.value, restore: true) }
            // The kernel filters with the larger of "all" and the interface's rp_filter. As
            // keepalived does: move "all" onto the parent and the default, then clear it.
            if let all = SysctlFile.read("/proc/sys/net/ipv4/conf/all/rp_filter"), all > 0 {
                for name in [instance.interface, "default"] {
                    if let own = SysctlFile.read("/proc/sys/net/ipv4/conf/\(name)/rp_filter"), own < all {
                        try setSysctl("ipv4/conf/\(name)/rp_filter", all, restore: true)
                    }
                }
                try setSysctl("ipv4/conf/all/rp_filter", 0, restore: true)
            }
            try setSysctl("ipv6/conf/\(vmac.interfaceName)/disable_ipv6", 1, restore: false)
        }
        try links.setUp(interfaceIndex: index, name: vmac.interfaceName)
    }

    /// Writes /proc/sys/net/KEY, remembering the old value to write back at exit if `restore`.
    private func setSysctl(_ key: String, _ value: Int, restore: Bool) throws {
        let path = "/proc/sys/net/" + key
        guard let old = SysctlFile.read(path) else { throw VRRPSystemError.last("read \(path)") }
        guard old != value else { return }
        guard SysctlFile.write(path, value) else { throw VRRPSystemError.last("write \(path)") }
        if restore && !savedSysctls.contains(where: { $0.path == path }) { savedSysctls.append((path, old)) }
    }

    /// Deletes the virtual MAC interfaces and puts the parents' sysctls back. Idempotent.
    private func releaseVirtualMACs() {
        for (name, index) in ownedVirtualMACs.reversed() {
            do { try links.deleteLink(interfaceIndex: index, name: name) } catch { options.log("\(error)") }
        }
        ownedVirtualMACs = []
        for (path, value) in savedSysctls.reversed() where !SysctlFile.write(path, value) { options.log("could not restore \(path)") }
        savedSysctls = []
    }

    // MARK: the loop

    func run() throws {
        options.log("\(instances.count) instance\(instances.count == 1 ? "" : "s") on \(sockets.count) socket\(sockets.count == 1 ? "" : "s")")
        let scheduling = try ProcessScheduling.apply(global)
        if !scheduling.isEmpty { options.log("scheduling: \(scheduling.joined(separator: ", "))") }
        realTimePriority = global.realtimePriority
        checkInterfaces(now: Microseconds.monotonicNow())
        pollSet = PollSet(signal: signalDescriptor, control: controlDescriptor, sockets: sockets.map { $0.receive.descriptor },
                          monitors: options.monitors.map(\.descriptors))
        var stopDeadline: Microseconds?
        while true {
            var now = Microseconds.monotonicNow()
            if stopping {
                if notifyQueue.isEmpty && notifyPID == nil { break }
                if let d = stopDeadline, now >= d { break }
                if stopDeadline == nil { stopDeadline = now + .seconds(10) }
            }
            var deadline = stopping ? now + .seconds(1) : nextInterfaceCheck
            for i in instances.indices { if let d = instances[i].state.nextDeadline, d < deadline { deadline = d } }
            for script in scripts.values {
                if script.pid == nil, script.nextRun < deadline { deadline = script.nextRun }
                if let k = script.killAt, k < deadline { deadline = k }
            }
            if !stopping { for due in monitorDue where due < deadline { deadline = due } }
            // While stopping, only signals and status requests are read.
            let watched = stopping ? pollSet.socketBase : pollSet.descriptors.count
            let timeout = max(0, (deadline - now).value)
            let ready = labctl_poll_us(&pollSet.descriptors, UInt(watched), timeout)
            if ready < 0 && errno != EINTR { throw VRRPSystemError.last("ppoll") }
            now = Microseconds.monotonicNow()
            if ready > 0 {
                if pollSet.descriptors[0].revents != 0 { handleSignals(now: now) }
                if controlDescriptor >= 0 && pollSet.descriptors[1].revents != 0 { answerStatus(now: now) }
                if !stopping {
                    for k in sockets.indices where pollSet.descriptors[pollSet.socketBase + k].revents != 0 { receive(sockets[k], now: now) }
                    for (j, k) in pollSet.monitorOfDescriptor.enumerated() where pollSet.descriptors[pollSet.monitorBase + j].revents != 0 {
                        monitorDue[k] = Microseconds(0)
                    }
                }
            }
            if stopping { continue }
            now = Microseconds.monotonicNow()
            for i in instances.indices {
                if let d = instances[i].state.nextDeadline, d <= now { step(i, .tick, now: now) }
            }
            runScripts(now: now)
            runMonitors(now: now)
            if now >= nextInterfaceCheck { checkInterfaces(now: now) }
        }
        releaseVirtualMACs()
        options.log("stopped")
    }

    private func step(_ index: Int, _ event: VRRPEvent, now: Microseconds) {
        let (next, actions) = instances[index].machine.step(instances[index].state, event, now: now)
        instances[index].state = next
        for action in actions { perform(action, index, now: now) }
    }

    private func perform(_ action: VRRPAction, _ index: Int, now: Microseconds) {
        let instance = instances[index]
        let cfg = instance.config
        switch action {
        case .sendAdvertisement(let priority):
            let pair = sockets[instance.socket]
            let ad = VRRPAdvertisement(version: cfg.version, virtualRouterID: cfg.virtualRouterID, priority: priority,
                                       advertisementInterval: cfg.advertisementInterval, addresses: cfg.virtualAddresses.map(\.address),
                                       authenticationType: cfg.authenticationPassword == nil ? 0 : 1,
                                       authenticationData: cfg.authenticationPassword ?? [])
            let destinations = cfg.unicastPeers.isEmpty ? [cfg.isIPv6 ? VRRPSocket.ipv6Group : VRRPSocket.ipv4Group] : cfg.unicastPeers
            for destination in destinations {
                let message = VRRPCodec.encode(ad, source: pair.send.source!, destination: destination, ipv4PseudoHeader: options.ipv4PseudoHeader)
                do {
                    try pair.send.send(message, to: destination)
                    instances[index].sent += 1
                } catch {
                    options.log("(\(cfg.name)) \(error)")
                }
            }
        case .addVirtualAddresses:
            for vip in cfg.virtualAddresses {
                let device = vip.device ?? cfg.vrrpInterface
                do {
                    try links.add(vip.address, prefixLength: vip.prefixLength, interfaceIndex: try InterfaceInfo.named(device).index, label: vip.label)
                } catch {
                    options.log("(\(cfg.name)) \(error)")
                }
            }
        case .removeVirtualAddresses:
            removeAddresses(cfg)
        case .announceVirtualAddresses:
            announcer.announceVirtualAddresses(of: cfg) { options.log("(\(cfg.name)) \($0)") }
        case .transition(let from, let to):
            instances[index].transitions += 1
            let name = to == .initialize ? "STOP" : to.rawValue
            options.log("(\(cfg.name)) Entering \(name) STATE")
            outsideRealTime { options.onTransition(cfg.name, from, to, now) }
            queueNotifies(cfg, state: name, priority: instances[index].state.effectivePriority)
        }
    }

    private func removeAddresses(_ cfg: KeepalivedConfig.Instance) {
        for vip in cfg.virtualAddresses {
            guard let index = try? InterfaceInfo.named(vip.device ?? cfg.vrrpInterface).index else { continue }
            do { try links.remove(vip.address, prefixLength: vip.prefixLength, interfaceIndex: index) } catch {
                options.log("(\(cfg.name)) \(error)")
            }
        }
    }

    // MARK: receiving

    private func receive(_ pair: SocketPair, now: Microseconds) {
        while let packet = pair.receive.receive(into: &buffer) {
            guard packet.message.count >= 2 else { pair.strays.record(.tooShort); continue }
            let vrid = packet.message[packet.message.startIndex + 1]
            guard let index = pair.instanceByRouterID[Int(vrid)] else {
                pair.strays.record(.unknownVirtualRouter)
                continue
            }
            if !instances[index].config.unicastPeers.isEmpty && !instances[index].config.unicastPeers.contains(packet.source) { continue }
            guard let ad = instances[index].filter.accept(packet.message, ttl: packet.ttl, source: packet.source,
                                                          destination: packet.destination) else { continue }
            instances[index].received += 1
            if instances[index].started { step(index, .advertisement(ad, source: packet.source), now: now) }
        }
    }

    // MARK: signals and children

    private func handleSignals(now: Microseconds) {
        var info = signalfd_siginfo()
        while read(signalDescriptor, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            switch Int32(info.ssi_signo) {
            case SIGTERM, SIGINT:
                guard !stopping else { continue }
                options.log("stopping on signal \(info.ssi_signo)")
                stopping = true
                for i in instances.indices where instances[i].started { step(i, .shutdown, now: now) }
                for i in instances.indices where !instances[i].started { removeAddresses(instances[i].config) }
                for (name, script) in scripts { if let pid = script.pid { kill(-pid, SIGKILL); scripts[name]?.killAt = nil } }
            case SIGCHLD:
                reapChildren(now: now)
            default:
                break  // SIGHUP: reload is not supported; ignore rather than die
            }
        }
    }

    private func reapChildren(now: Microseconds) {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            if pid == notifyPID {
                notifyPID = nil
                startNextNotify()
                continue
            }
            guard let name = scripts.first(where: { $0.value.pid == pid })?.key else { continue }
            let exited = status & 0x7F == 0
            let success = exited && (status >> 8) & 0xFF == 0
            let timedOut = scripts[name]!.killAt == nil && !exited
            scripts[name]!.pid = nil
            scripts[name]!.killAt = nil
            scripts[name]!.nextRun = now + scripts[name]!.script.interval
            if scripts[name]!.health.record(success: success && !timedOut) {
                options.log("VRRP_Script(\(name)) \(scripts[name]!.health.healthy == true ? "succeeded" : "failed")")
                reevaluate(now: now)
            }
        }
    }

    // MARK: tracking

    private func runScripts(now: Microseconds) {
        for name in scripts.keys {
            let script = scripts[name]!
            if let pid = script.pid, let killAt = script.killAt, now >= killAt {
                kill(-pid, SIGKILL)  // the exit arrives through SIGCHLD and counts as a failure
                scripts[name]!.killAt = nil
                continue
            }
            guard script.pid == nil, now >= script.nextRun else { continue }
            do {
                let pid = try ScriptRunner.spawn(script.script.command, uid: script.user.uid, gid: script.user.gid)
                scripts[name]!.pid = pid
                scripts[name]!.killAt = now + (script.script.timeout ?? script.script.interval)
            } catch {
                options.log("VRRP_Script(\(name)) \(error)")
                scripts[name]!.nextRun = now + script.script.interval
                if scripts[name]!.health.record(success: false) { reevaluate(now: now) }
            }
        }
    }

    private func checkInterfaces(now: Microseconds) {
        nextInterfaceCheck = now + Microseconds(100_000)
        guard let all = try? InterfaceInfo.all() else { return }
        var changed = false
        for instance in instances {
            for name in [instance.config.interface] + instance.config.trackInterfaces.map(\.name) {
                let up = all[name].map { $0.isUp && $0.isRunning } ?? false
                if interfaceHealth[name] != up {
                    if interfaceHealth[name] != nil { options.log("Netlink reports \(name) \(up ? "up" : "down")") }
                    interfaceHealth[name] = up
                    changed = true
                }
            }
        }
        if changed { reevaluate(now: now) }
    }

    /// Monitors and transition hooks run at normal scheduling. Their work (WireGuard's dumps and
    /// reconfiguration) grows with the peers, and under SCHED_RR a stretch without a blocking call
    /// longer than RLIMIT_RTTIME (10 ms by default) gets the process killed. keepalived does such
    /// work in scripts, which do not inherit its real-time policy either.
    private func outsideRealTime<T>(_ body: () -> T) -> T {
        guard let priority = realTimePriority else { return body() }
        if !ProcessScheduling.setRealTime(nil) { options.log("\(VRRPSystemError.last("sched_setscheduler(SCHED_OTHER)"))") }
        defer { if !ProcessScheduling.setRealTime(priority) { options.log("\(VRRPSystemError.last("sched_setscheduler(SCHED_RR, \(priority))"))") } }
        return body()
    }

    private func runMonitors(now: Microseconds) {
        var changed = false
        for (k, monitor) in options.monitors.enumerated() where now >= monitorDue[k] {
            monitorDue[k] = now + monitor.interval
            let verdict = outsideRealTime { monitor.poll(now) }
            if verdict != monitorHealth[k] {
                if let verdict { options.log("Monitor(\(monitor.name)) \(verdict ? "succeeded" : "failed")") }
                monitorHealth[k] = verdict
                changed = true
            }
        }
        if changed { reevaluate(now: Microseconds.monotonicNow()) }
    }

    private func health(_ item: String) -> Bool? {
        if item.hasPrefix("interface:") { return interfaceHealth[String(item.dropFirst(10))] }
        if item.hasPrefix("monitor:") { return monitorHealth[Int(item.dropFirst(8))!] }
        return scripts[String(item.dropFirst(7))]?.health.healthy
    }

    /// Applies the tracked objects to every instance: start it, fault it, or change its priority.
    private func reevaluate(now: Microseconds) {
        guard !stopping else { return }
        for i in instances.indices {
            switch instances[i].policy.evaluate(health) {
            case .waiting:
                continue
            case .fault:
                step(i, .fault(true), now: now)
            case .priority(let p):
                step(i, .priorityChanged(p), now: now)
                if instances[i].state.faulted { step(i, .fault(false), now: now) }
            }
            if !instances[i].started {
                instances[i].started = true
                step(i, .startup, now: now)
            }
        }
    }

    // MARK: notify

    private func queueNotifies(_ cfg: KeepalivedConfig.Instance, state: String, priority: UInt8) {
        let specific: String? = switch state {
        case "MASTER": cfg.notifyMaster
        case "BACKUP": cfg.notifyBackup
        case "FAULT": cfg.notifyFault
        case "STOP": cfg.notifyStop
        default: nil
        }
        if let specific, let words = try? KeepalivedCommandLine.words(specific, cfg.location) { notifyQueue.append(words) }
        if let generic = cfg.notify, let words = try? KeepalivedCommandLine.words(generic, cfg.location) {
            notifyQueue.append(words + ["INSTANCE", cfg.name, state, String(priority)])
        }
        if notifyPID == nil { startNextNotify() }
    }

    /// One notify script at a time, in the order the transitions happened.
    private func startNextNotify() {
        while notifyPID == nil, !notifyQueue.isEmpty {
            let words = notifyQueue.removeFirst()
            do { notifyPID = try ScriptRunner.spawn(words, uid: defaultUser.uid, gid: defaultUser.gid) } catch {
                options.log("notify \(words[0]): \(error)")
            }
        }
    }

    // MARK: status

    private func answerStatus(now: Microseconds) {
        while true {
            let client = Glibc.accept(controlDescriptor, nil, nil)
            guard client >= 0 else { return }
            let text = Array(statusJSON(now: now).utf8)
            var offset = 0
            while offset < text.count {
                let n = text[offset...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                offset += n
            }
            close(client)
        }
    }

    func statusJSON(now: Microseconds) -> String {
        var out = "{\"routerID\":\(JSONText.string(global.routerID ?? "")),\"instances\":["
        for (k, i) in instances.enumerated() {
            if k > 0 { out += "," }
            let cfg = i.config, s = i.state
            let discards = VRRPDiscard.allCases.filter { i.filter.counters[$0] > 0 }
                .map { "\(JSONText.string(String(describing: $0))):\(i.filter.counters[$0])" }.joined(separator: ",")
            let tracking = i.policy.items.map { "\(JSONText.string($0.name)):\(health($0.name).map { $0 ? "true" : "false" } ?? "null")" }
                .joined(separator: ",")
            out += "{\"name\":\(JSONText.string(cfg.name)),\"interface\":\(JSONText.string(cfg.interface)),"
            out += "\"virtualMACInterface\":\(cfg.virtualMACInterface.map { JSONText.string($0.interfaceName) } ?? "null"),"
            out += "\"state\":\"\(s.role == .initialize && s.stopped ? "STOP" : s.role.rawValue)\",\"virtualRouterID\":\(cfg.virtualRouterID),"
            out += "\"version\":\(cfg.version.rawValue),\"priority\":\(cfg.priority),\"effectivePriority\":\(s.effectivePriority),"
            out += "\"advertisementInterval\":\"\(cfg.advertisementInterval)\",\"masterAdvertisementInterval\":\"\(s.masterAdvertisementInterval)\","
            out += "\"master\":\(s.masterAddress.map { JSONText.string($0.description) } ?? "null"),"
            out += "\"primaryAddress\":\(JSONText.string(i.machine.config.primaryAddress.description)),"
            out += "\"virtualAddresses\":[\(cfg.virtualAddresses.map { JSONText.string($0.description) }.joined(separator: ","))],"
            out += "\"advertisementsSent\":\(i.sent),\"advertisementsReceived\":\(i.received),\"transitions\":\(i.transitions),"
            out += "\"discarded\":{\(discards)},\"tracking\":{\(tracking)}}"
        }
        return out + "]}\n"
    }
}

/// Minimal JSON string escaping, so that the library needs no Foundation.
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

import Synchronization
import SystemPackage
import VRRP
import WGNetlink
#if canImport(Glibc)
import Glibc
#endif

/// Drives one WireGuard interface from one VRRP instance (the `wireguard { }` block):
/// - the link is up only on the master; on BACKUP, FAULT and STOP it goes down;
/// - on every takeover the tunnel addresses and routes come back, whatever the kernel flushed;
/// - the handshakes of a takeover leave from the VIP, through a host route per endpoint;
/// - the master publishes its peers' endpoints to the backup, sealed with the sync key, on change
///   and at least every second; the backup keeps them and, on takeover, installs them and makes WireGuard
///   handshake with every peer at once instead of waiting for the clients to give up;
/// - a peer that has not answered that handshake soon after is re-created and handshaked with
///   again, after the VIP is announced once more: WireGuard itself would retry only after 5 s;
/// - a health check (the device exists, has a private key, is up on the master) reported to the
///   speaker, which puts the instance in FAULT when it fails.
/// Every call comes from the speaker's thread; the lock only makes that provable.
final class WireGuardFailover: Sendable {
    let instance: String
    /// The VRRP instance's configuration: its VIPs, announced again before a handshake retry.
    private let vrrpInstance: KeepalivedConfig.Instance
    let interface: String
    private let log: @Sendable (String) -> Void
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var client: WireGuardClient
        var links: NetworkInterfaces
        let events: LinkEvents
        var sync: SyncSocket?
        let key: EndpointSyncKey?
        let destinations: [VRRPAddress]
        var role = VRRPRole.initialize
        var addresses: [AllowedIP]
        var routes: [AllowedIP]
        /// The first VIP of each family: the source of the takeover's handshakes.
        let sources: [IPAddress]
        /// Host routes added for that, removed when the master steps down.
        var pinned: [NetworkInterfaces.HostRoute] = []
        /// The newest endpoint the master published for each peer.
        var synced: [Key: PeerEndpoint] = [:]
        var guards: [String: EndpointSyncReplayGuard] = [:]
        var published: [PeerEndpoint] = []
        var publishedAt = Microseconds(0)
        var counter: UInt64 = 0
        var takeover: (at: Microseconds, wallClock: HandshakeTime, total: Int, pending: Set<Key>, retryAt: Microseconds?)?
        /// Re-announces the VIPs before a handshake retry; nil if the raw sockets would not open.
        let announcer: AnnouncementSocket?
        /// When a server that stepped down re-creates its peers (see `resetPeers`).
        var peerResetDue: Microseconds?
        /// The last check of the device, and when the next one is due (see `poll`).
        var verdict: Bool?
        var nextCheck = Microseconds(0)
        /// The peers' configuration at the last check (see `configuration`).
        var lastConfiguration: Int?
        /// Whether the link is up, as its last event said; nil when no event told.
        var linkUp: Bool?
        var buffer = [UInt8](repeating: 0, count: 65536)
        var rejected: UInt64 = 0
    }

    /// Opens the netlink sockets and the sync channel, and records the tunnel addresses and routes
    /// to restore (the configured ones, or what the interface has now).
    init(instance cfg: KeepalivedConfig.Instance, binding: KeepalivedConfig.WireGuardBinding,
         log: @escaping @Sendable (String) -> Void) throws {
        func fail(_ message: String) -> KeepalivedConfigError { KeepalivedConfigError(binding.location, message) }
        instance = cfg.name
        vrrpInstance = cfg
        interface = binding.interface
        self.log = log
        var key: EndpointSyncKey?
        if let path = binding.syncKeyFile {
            let bytes: [UInt8]
            do { bytes = try FileBytes.read(path, limit: 4096) } catch { throw fail("sync_key \(path): \(error)") }
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
                throw fail("sync_key \(path) is readable by others; chmod 600 it")
            }
            guard let k = EndpointSyncKey(base64: String(decoding: bytes, as: UTF8.self)) else {
                throw fail("sync_key \(path) does not hold a base64 32-byte key (make one with 'labctl wg genpsk')")
            }
            key = k
        }
        let vrrpIndex = if_nametoindex(cfg.interface)
        guard vrrpIndex != 0 else { throw fail("no interface \(cfg.interface)") }
        var sync: SyncSocket?
        var destinations: [VRRPAddress] = []
        if key != nil {
            destinations = binding.syncPeers.isEmpty ? cfg.unicastPeers : binding.syncPeers
            let group = destinations.isEmpty ? VRRPAddress(parsing: cfg.isIPv6 ? "ff02::12" : "224.0.0.18")! : nil
            if let group { destinations = [group] }
            do { sync = try SyncSocket(ipv6: cfg.isIPv6, port: binding.syncPort, interfaceIndex: vrrpIndex, joinGroup: group) } catch {
                throw fail("\(error)")
            }
        }
        var links = try NetworkInterfaces()
        func prefix(_ v: KeepalivedConfig.VirtualAddress) -> AllowedIP? {
            AllowedIP(address: IPAddress(bytes: v.address.bytes)!, prefixLength: Int(v.prefixLength))
        }
        var addresses = binding.addresses.compactMap(prefix)
        var routes = binding.routes.compactMap(prefix)
        if (try? NetworkInterfaces.index(of: binding.interface)) != nil {
            if addresses.isEmpty { addresses = try links.addresses(ofLink: binding.interface).filter { !$0.address.isLinkLocal } }
            if routes.isEmpty { routes = try links.routes(ofLink: binding.interface) }
        } else {
            log("(\(cfg.name)) WireGuard interface \(binding.interface) does not exist yet")
        }
        // Pinned host routes a killed run left (IPv4 loses them with the VIP; IPv6 keeps them).
        if let leftovers = try? links.hostRoutesLeftBehind(), !leftovers.isEmpty {
            let removed = ((try? links.deleteHostRoutes(leftovers)) ?? []).filter { (try? $0.get()) == true }.count
            log("(\(cfg.name)) removed \(removed) host route\(removed == 1 ? "" : "s") an earlier run left behind")
        }
        var sources: [IPAddress] = []
        for v in cfg.virtualAddresses {
            if let a = IPAddress(bytes: v.address.bytes), !a.isLinkLocal, !sources.contains(where: { $0.family == a.family }) { sources.append(a) }
        }
        let announcer: AnnouncementSocket?
        do { announcer = try AnnouncementSocket() } catch {
            log("(\(cfg.name)) no handshake retries after a takeover: \(error)")
            announcer = nil
        }
        state = Mutex(State(client: try WireGuardClient(), links: links, events: try LinkEvents(), sync: sync, key: key,
                            destinations: destinations, addresses: addresses, routes: routes, sources: sources,
                            announcer: announcer))
        // After the events socket opened, so that any later change comes as an event.
        state.withLock { s in s.linkUp = try? s.links.link(named: interface).isUp }
        let restored = addresses.map(\.description) + routes.map { "route \($0)" }
        log("(\(cfg.name)) drives \(binding.interface): restores \(restored.isEmpty ? "no addresses or routes" : restored.joined(separator: " "))\(key == nil ? ", no endpoint sync" : ", endpoint sync to \(destinations.map(\.description).joined(separator: " ")) port \(binding.syncPort)")")
    }

    /// The speaker's view: link events and sync datagrams wake it; otherwise every 100 ms.
    var monitor: VRRPInstanceMonitor {
        let descriptors = state.withLock { s in
            var list = [s.events.descriptor]
            switch s.sync {
            case .some(let sync): list.append(sync.descriptor)
            case .none: break
            }
            return list
        }
        return VRRPInstanceMonitor(instance: instance, name: "wireguard:\(interface)", descriptors: descriptors,
                                   interval: Self.checkInterval) { now in self.poll(now: now) }
    }

    // MARK: transitions

    func transition(to role: VRRPRole, now: Microseconds) {
        state.withLock { s in
            let previous = s.role
            s.role = role
            if role == .master {
                takeOver(&s, now: now)
            } else {
                setLink(&s, up: false)
                unpinSources(&s)
                // A master stepping down re-creates them later: its link is down, so the peers'
                // state does no harm meanwhile, and re-creating them now would load the machine
                // while the new master takes over. Otherwise (a speaker starting, say) at once, so
                // that it is done before this server preempts: a takeover that still has it to
                // do does it first, and is that much slower.
                if role != .initialize { s.peerResetDue = previous == .master ? now + Self.peerResetDelay : now }
            }
        }
    }

    /// The kernel flushes a link's IPv6 addresses when it goes down unless keep_addr_on_down is
    /// set. Set on the WireGuard interface only, so that a restarted speaker still finds the
    /// tunnel addresses to restore.
    private func keepAddressesOnDown() {
        let path = "/proc/sys/net/ipv6/conf/\(interface)/keep_addr_on_down"
        guard let file = fopen(path, "w") else { return }
        fputs("1\n", file)
        fclose(file)
    }

    /// Deletes and re-creates every peer of `device` (a fresh dump), without endpoints. A peer
    /// that tried to handshake while the link was up without an endpoint (wg-quick up on a restored
    /// server does that) keeps its rate limit and retransmit timer across a link down and up, and
    /// would not handshake again for up to 5 s after a takeover; a new peer starts clean. And a
    /// backup whose link someone brings up must not know any endpoint: it would handshake with the
    /// clients and take their sessions away from the master.
    private func resetPeers(_ device: WGNetlink.Device, _ s: inout State) {
        _ = recreate(device.peers, withEndpoints: false, &s, failure: "re-creating peers")
    }

    /// Deletes `peers` and creates them again with their keys, keepalives and allowed IPs, and
    /// their endpoints if asked. False (and logged) if the kernel refused.
    private func recreate(_ peers: [WGNetlink.Peer], withEndpoints: Bool, _ s: inout State, failure: String) -> Bool {
        guard !peers.isEmpty else { return true }
        let removal = peers.map { PeerConfig(publicKey: $0.publicKey, remove: true) }
        let creation = peers.map { peer in
            PeerConfig(publicKey: peer.publicKey, presharedKey: peer.presharedKey.map { .set($0) }, endpoint: withEndpoints ? peer.endpoint : nil,
                       persistentKeepalive: peer.persistentKeepalive, replaceAllowedIPs: true, allowedIPs: peer.allowedIPs)
        }
        do {
            try s.client.configure(interface, DeviceConfig(peers: removal))
            try s.client.configure(interface, DeviceConfig(peers: creation))
            return true
        } catch {
            log("(\(instance)) \(interface): \(failure): \(error)")
            return false
        }
    }

    /// What a peer reset keeps, to tell whether someone is still configuring the device.
    private static func configuration(_ device: WGNetlink.Device) -> Int {
        var hasher = Hasher()
        for peer in device.peers {
            hasher.combine(peer.publicKey)
            hasher.combine(peer.allowedIPs)
            hasher.combine(peer.persistentKeepalive)
            hasher.combine(peer.presharedKey != nil)
        }
        return hasher.finalize()
    }

    private func setLink(_ s: inout State, up: Bool) {
        if !up { keepAddressesOnDown() }
        do { try s.links.setLink(named: interface, up: up) } catch .noSuchDevice { } catch {
            log("(\(instance)) \(interface): \(error)")
        }
    }

    /// How long after stepping down a server re-creates its peers.
    static let peerResetDelay = Microseconds(2_000_000)

    /// Synced endpoints in, link up, a handshake with every peer, addresses and routes back.
    private func takeOver(_ s: inout State, now: Microseconds) {
        let started = wallClock()
        if s.peerResetDue != nil, let device = try? s.client.device(named: interface) {  // back within the delay
            resetPeers(device, &s)
            s.peerResetDue = nil
        }
        let device: WGNetlink.Device
        do { device = try s.client.device(named: interface) } catch {
            log("(\(instance)) takeover: \(error)")
            return
        }
        track(s.events.drain(), &s)
        let wasDown = s.linkUp == false
        let endpoints = device.peers.compactMap { s.synced[$0.publicKey] }.filter { $0.endpoint != nil }
        let reachable = device.peers.filter { $0.endpoint != nil || s.synced[$0.publicKey]?.endpoint != nil }
        pinSources(reachable.compactMap { (s.synced[$0.publicKey]?.endpoint ?? $0.endpoint)?.address },
                   flow: RouteFlow(mark: device.firewallMark, udpSourcePort: device.listenPort), &s)
        install(endpoints, &s)
        setLink(&s, up: true)
        // The link coming up sends a keepalive to every peer with a persistent keepalive.
        startHandshakes(reachable.filter { !wasDown || $0.persistentKeepalive == 0 }, &s)
        for address in s.addresses {
            do { try s.links.addAddress(address, toLink: interface) } catch { log("(\(instance)) \(interface): \(error)") }
        }
        for route in s.routes {
            do { try s.links.addRoute(route, toLink: interface) } catch { log("(\(instance)) \(interface): \(error)") }
        }
        s.takeover = (now, started, reachable.count, Set(reachable.map(\.publicKey)),
                      s.announcer == nil ? nil : now + Self.handshakeRetryDelay(peers: reachable.count))
        let pinned = s.pinned.isEmpty ? "" : ", \(s.pinned.count) host route\(s.pinned.count == 1 ? "" : "s") from the VIP"
        log("(\(instance)) \(interface) up: \(endpoints.count) synced endpoint\(endpoints.count == 1 ? "" : "s")\(pinned), handshake with \(reachable.count) peer\(reachable.count == 1 ? "" : "s")")
    }

    /// The kernel sends a keepalive when a peer's persistent keepalive goes from 0 to non-zero; a
    /// keepalive without a session starts a handshake. Two messages, so each peer keeps its setting.
    private func startHandshakes(_ peers: [WGNetlink.Peer], _ s: inout State) {
        guard !peers.isEmpty else { return }
        let first = peers.map { PeerConfig(publicKey: $0.publicKey, updateOnly: true, persistentKeepalive: $0.persistentKeepalive == 0 ? 1 : 0) }
        let second = peers.map { PeerConfig(publicKey: $0.publicKey, updateOnly: true, persistentKeepalive: $0.persistentKeepalive) }
        do {
            try s.client.configure(interface, DeviceConfig(peers: first))
            try s.client.configure(interface, DeviceConfig(peers: second))
        } catch {
            log("(\(instance)) handshake: \(error)")
        }
    }

    /// When a takeover handshakes again with the peers that have not answered. Each handshake
    /// costs the new master CPU (15–25 ms a peer under TCG: 20 peers took up to 554 ms), so the
    /// more peers it started, the later; a retry too early only costs a peer its handshake.
    static func handshakeRetryDelay(peers: Int) -> Microseconds {
        Microseconds(400_000 + 10_000 * Int64(peers))
    }

    /// A lost first message (the client's reply went to the old master's MAC, say, because its
    /// neighbour entry for the VIP was confirmed by the old master after the VIP's announcement)
    /// would cost a client 5 s: WireGuard sends a handshake again only after REKEY_TIMEOUT, and
    /// not sooner however it is asked. A re-created peer has no such timer: the VIP is announced
    /// again, then each peer that has not answered is re-created with its endpoint and
    /// handshaked with, once per takeover.
    private func retryHandshakes(_ device: WGNetlink.Device, _ pending: Set<Key>, _ s: inout State, since: Microseconds, now: Microseconds) {
        let peers = device.peers.filter { pending.contains($0.publicKey) && $0.endpoint != nil }
        guard !peers.isEmpty else { return }
        switch s.announcer {
        case .some(let announcer): announcer.announceVirtualAddresses(of: vrrpInstance) { _ in }
        case .none: return
        }
        guard recreate(peers, withEndpoints: true, &s, failure: "handshake retry") else { return }
        // A new peer with a persistent keepalive sent one as it was created.
        startHandshakes(peers.filter { $0.persistentKeepalive == 0 }, &s)
        log("(\(instance)) \(interface): no handshake with \(peers.count) peer\(peers.count == 1 ? "" : "s") \((now - since).value / 1000) ms after takeover; VIP announced again, handshaking anew")
    }

    /// A handshake WireGuard starts leaves from the source its route gives: on IPv4 the server's
    /// own address, not the VIP the clients talk to. A client would then roam to that address,
    /// and a NAT in front of one would drop the packet, as it matches no mapping. So each endpoint
    /// the takeover handshakes with gets a host route with the VIP as its source; the clients'
    /// replies then come to the VIP, and WireGuard keeps that as the peer's source.
    /// The lookups carry WireGuard's mark and port, so that policy routing picks the table its own
    /// packets will use.
    private func pinSources(_ endpoints: [IPAddress], flow: RouteFlow, _ s: inout State) {
        var seen = Set<IPAddress>()
        let candidates = endpoints.filter { a in !a.isLinkLocal && s.sources.contains { $0.family == a.family } && seen.insert(a).inserted }
        guard !candidates.isEmpty else { return }
        var failures: [String] = []
        var wanted: [NetworkInterfaces.HostRoute] = []
        do {
            for (address, lookup) in zip(candidates, try s.links.lookUpRoutes(to: candidates, flow: flow)) {
                let source = s.sources.first { $0.family == address.family }!
                switch lookup {
                case .success(let route) where route.source != source && route.source != address:  // not the VIP already, nor local
                    wanted.append(.init(to: address, along: route, source: source))
                case .success: continue
                case .failure(let error): failures.append("source \(source) for \(address): \(error)")
                }
            }
            for (route, added) in zip(wanted, try s.links.addHostRoutes(wanted)) {
                switch added {
                case .success(true): s.pinned.append(route)
                case .success(false): continue  // a route of the user's own; left alone
                case .failure(let error): failures.append("source \(route.source) for \(route.destination): \(error)")
                }
            }
        } catch {
            failures.append("host routes from the VIP: \(error)")
        }
        // One line, however many peers: with the VIP missing, every endpoint fails the same way.
        if let first = failures.first {
            log("(\(instance)) \(first)\(failures.count > 1 ? " (and \(failures.count - 1) more)" : "")")
        }
    }

    /// IPv4 drops those routes with the VIP; IPv6 keeps them, without a source.
    private func unpinSources(_ s: inout State) {
        guard !s.pinned.isEmpty else { return }
        _ = try? s.links.deleteHostRoutes(s.pinned)
        s.pinned = []
    }

    private func install(_ endpoints: [PeerEndpoint], _ s: inout State) {
        guard !endpoints.isEmpty else { return }
        let peers = endpoints.map { PeerConfig(publicKey: $0.publicKey, updateOnly: true, endpoint: $0.endpoint) }
        do { try s.client.configure(interface, DeviceConfig(peers: peers)) } catch .noSuchDevice { } catch {
            log("(\(instance)) install endpoints: \(error)")
        }
    }

    // MARK: the periodic part

    private func poll(now: Microseconds) -> Bool? {
        state.withLock { s in
            let events = s.events.drain()
            track(events, &s)
            receiveSync(&s)
            // The master's link went down or away: fail now. Asking the kernel would wait until a
            // deletion is over (it holds the RTNL lock, hundreds of ms with many peers on a slow
            // machine), and the backup would hear of it that much later. The last event tells.
            if s.role == .master, let last = events.last(where: { $0.link?.name == interface }) {
                if case .removed = last { s.verdict = false; return false }
                if last.link?.isUp == false { s.verdict = false; return false }
            }
            // A check dumps the device, which costs in proportion to its peers (tens of ms for 100
            // under TCG). Checks are spaced so that they take at most a tenth of a CPU, and come
            // at least every second. An event on the link of a server that is not the master (its
            // own takeover's link up is none) brings the next one forward.
            let linkEvent = events.contains { $0 == .overrun || (s.role != .master && $0.link?.name == interface) }
            guard linkEvent || now >= s.nextCheck || s.verdict == nil else { return s.verdict }
            let verdict = check(&s, now: now)
            let cost = Microseconds.monotonicNow() - now
            s.nextCheck = now + max(Self.checkInterval, min(Microseconds(cost.value * 10), .seconds(1)))
            s.verdict = verdict
            return verdict
        }
    }

    /// Keeps `linkUp` as the interface's last event says.
    private func track(_ events: [LinkEvents.Event], _ s: inout State) {
        for event in events {
            switch event {
            case .changed(let link) where link.name == interface: s.linkUp = link.isUp
            case .removed(let link) where link.name == interface: s.linkUp = nil
            case .overrun: s.linkUp = nil
            default: continue
            }
        }
    }

    /// The shortest time between two checks, and the monitor's poll interval.
    static let checkInterval = Microseconds(100_000)

    /// The health check, the master's publishing, and the backup's upkeep.
    private func check(_ s: inout State, now: Microseconds) -> Bool {
        let device: WGNetlink.Device
        do { device = try s.client.device(named: interface) } catch {
            return false
        }
        guard device.privateKey != nil else { return false }
        // A reset re-creates the peers as this dump shows them. While someone else configures the
        // device (wg setconf sends many peers in several messages), a dump can catch a peer before
        // its allowed IPs arrive, and the reset would re-create it without them: so only once two
        // checks in a row saw the same configuration.
        let configuration = Self.configuration(device)
        defer { s.lastConfiguration = configuration }
        if let due = s.peerResetDue, now >= due, s.role != .master, configuration == s.lastConfiguration {
            resetPeers(device, &s)
            s.peerResetDue = nil
        }
        let up = (try? s.links.link(named: interface).isUp) ?? false
        if s.role == .master {
            guard up else { return false }
            publish(device, &s, now: now)
            noteHandshakes(device, &s, now: now)
        } else if up && (s.role == .backup || s.role == .fault) {
            // Someone brought it up behind our back (wg-quick up): one server only.
            log("(\(instance)) \(interface) is up on the \(s.role == .backup ? "backup" : "faulted server"); setting it down")
            setLink(&s, up: false)
            s.peerResetDue = now
        }
        return true
    }

    private func publish(_ device: WGNetlink.Device, _ s: inout State, now: Microseconds) {
        guard let key = s.key else { return }
        let current = device.peers.map { PeerEndpoint(publicKey: $0.publicKey, endpoint: $0.endpoint, lastHandshake: $0.lastHandshake) }
        let changedEndpoints = current.map(\.endpoint) != s.published.map(\.endpoint) || current.map(\.publicKey) != s.published.map(\.publicKey)
        guard changedEndpoints || now - s.publishedAt >= .seconds(1) else { return }
        s.counter = max(s.counter + 1, wallClockMicroseconds())
        let batches = EndpointSyncMessage.batches(interface: interface, counter: s.counter, peers: current)
        s.counter += UInt64(batches.count)
        for message in batches {
            let datagram = key.seal(message)
            for destination in s.destinations {
                switch s.sync {
                case .some(let sync):
                    do { try sync.send(datagram, to: destination) } catch { log("(\(instance)) \(error)") }
                case .none: break
                }
            }
        }
        s.published = current
        s.publishedAt = now
    }

    private func receiveSync(_ s: inout State) {
        guard let key = s.key else { return }
        while true {
            let next: (bytes: [UInt8], source: String)?
            switch s.sync {
            case .some(let sync): next = sync.receive(into: &s.buffer).map { (Array($0.bytes), $0.source) }
            case .none: next = nil
            }
            guard let (bytes, source) = next else { break }
            let message: EndpointSyncMessage
            do {
                message = try key.open(bytes)
                try s.guards[source, default: EndpointSyncReplayGuard()].accept(message, nowMicroseconds: wallClockMicroseconds())
            } catch {
                s.rejected += 1
                if s.rejected <= 10 || s.rejected.isMultiple(of: 1000) { log("(\(instance)) sync from \(source) rejected: \(error)") }
                continue
            }
            guard message.interface == interface, s.role != .master else { continue }
            // Kept here, not in the backup's device: installed on takeover, just before the link goes up.
            for peer in message.peers { s.synced[peer.publicKey] = peer }
        }
    }

    /// After a takeover: which peers have handshaked since, the retry for the others when it is
    /// due, and one log line once all have (or after 30 s).
    private func noteHandshakes(_ device: WGNetlink.Device, _ s: inout State, now: Microseconds) {
        guard let t = s.takeover else { return }
        let done = device.peers.filter { t.pending.contains($0.publicKey) && $0.lastHandshake > t.wallClock }.map(\.publicKey)
        s.takeover!.pending.subtract(done)
        if let retryAt = t.retryAt, now >= retryAt, !s.takeover!.pending.isEmpty {
            s.takeover!.retryAt = nil
            retryHandshakes(device, s.takeover!.pending, &s, since: t.at, now: now)
        }
        if s.takeover!.pending.isEmpty || now - t.at > .seconds(30) {
            let total = t.total
            let missing = s.takeover!.pending.count
            log("(\(instance)) \(interface): handshakes with \(total - missing)/\(total) peers within \((now - t.at).value / 1000) ms of takeover")
            s.takeover = nil
        }
    }
}

/// Wall-clock time as WireGuard reports handshakes.
func wallClock() -> HandshakeTime {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return HandshakeTime(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
}

func wallClockMicroseconds() -> UInt64 {
    let t = wallClock()
    return UInt64(t.seconds) * 1_000_000 + UInt64(t.nanoseconds / 1000)
}

import CLinuxShims
import Testing
@testable import WGNetlink
#if canImport(Glibc)
import Glibc
#endif

/// Route lookups and pinned host routes against the host's own kernel, each test in a network
/// namespace of its own: a thread unshares it, so nothing touches the host's routes.
@Suite(.serialized)
struct NetworkInterfacesTests {
    @Test("A host route along the connected route makes the VIP the source, and goes again (IPv4)")
    func ipv4HostRouteAlongConnectedRoute() throws {
        try inPrivateNetworkNamespace {
            var links = try NetworkInterfaces()
            let index = try uplink(&links, addresses: ["192.0.2.4/24", "192.0.2.2/24"])
            let client = IPAddress("192.0.2.101")!, vip = IPAddress("192.0.2.2")!
            let route = try links.lookUpRoute(to: client)
            #expect(route == RouteLookup(outputInterface: index, gateway: nil, source: IPAddress("192.0.2.4"), table: 254))
            #expect(try links.addHostRoute(to: client, along: route, source: vip))
            #expect(try !links.addHostRoute(to: client, along: route, source: vip), "a second add leaves the route alone")
            #expect(try links.lookUpRoute(to: client).source == vip)
            #expect(try links.deleteHostRoute(to: client, along: route))
            #expect(try !links.deleteHostRoute(to: client, along: route))
            #expect(try links.lookUpRoute(to: client).source == IPAddress("192.0.2.4"))
        }
    }

    @Test("A host route through a gateway keeps the gateway (IPv4)")
    func ipv4HostRouteThroughGateway() throws {
        try inPrivateNetworkNamespace {
            var links = try NetworkInterfaces()
            let index = try uplink(&links, addresses: ["192.0.2.4/24", "192.0.2.2/24"])
            let client = IPAddress("198.51.100.7")!, vip = IPAddress("192.0.2.2")!
            let viaGateway = RouteLookup(outputInterface: index, gateway: IPAddress("192.0.2.1"), source: nil, table: 254)
            #expect(try links.addHostRoute(to: client, along: viaGateway, source: vip))
            #expect(try links.lookUpRoute(to: client) == RouteLookup(outputInterface: index, gateway: IPAddress("192.0.2.1"), source: vip, table: 254))
        }
    }

    @Test("IPv6: the source moves from the older address to the VIP")
    func ipv6HostRoute() throws {
        try inPrivateNetworkNamespace {
            var links = try NetworkInterfaces()
            // Without DAD the addresses are usable at once. The newest address wins a tie, so the VIP goes first.
            let index = try uplink(&links, addresses: ["2001:db8:1::2/64", "2001:db8:1::4/64"], noDAD: true)
            let client = IPAddress("2001:db8:1::101")!, vip = IPAddress("2001:db8:1::2")!
            let route = try links.lookUpRoute(to: client)
            #expect(route.outputInterface == index && route.gateway == nil && route.table == 254)
            #expect(route.source == IPAddress("2001:db8:1::4"))
            #expect(try links.addHostRoute(to: client, along: route, source: vip))
            #expect(try links.lookUpRoute(to: client).source == vip)
            #expect(try links.deleteHostRoute(to: client, along: route))
        }
    }

    @Test("Many lookups and routes at once: one result each, in order, over several datagrams")
    func pipelinedLookupsAndRoutes() throws {
        try inPrivateNetworkNamespace {
            var links = try NetworkInterfaces()
            _ = try uplink(&links, addresses: ["192.0.2.4/24", "192.0.2.2/24", "198.18.0.4/15"])
            let vip = IPAddress("192.0.2.2")!
            // 300 on the link, and every 50th unreachable (no default route).
            let destinations = (0..<300).map { i in IPAddress(i % 50 == 7 ? "203.0.113.\(i % 250)" : "198.18.\(1 + i / 200).\(i % 200 + 1)")! }
            let lookups = try links.lookUpRoutes(to: destinations)
            #expect(lookups.count == 300)
            var routes: [NetworkInterfaces.HostRoute] = []
            for (destination, result) in zip(destinations, lookups) {
                switch result {
                case .success(let route):
                    #expect(destination.description.hasPrefix("198.18."), "\(destination)")
                    #expect(route.source == IPAddress("198.18.0.4"))
                    routes.append(.init(to: destination, along: route, source: vip))
                case .failure(let error):
                    #expect(destination.description.hasPrefix("203.0.113."), "\(destination): \(error)")
                    #expect("\(error)".contains("unreachable"), "\(error)")
                }
            }
            #expect(routes.count == 300 - 6)
            // One of them exists already, and one asks for a source that is not local.
            #expect(try links.addHostRoute(to: routes[10].destination, along: routes[10].along, source: vip))
            routes[20].source = IPAddress("203.0.113.99")!
            let added = try links.addHostRoutes(routes)
            for (i, result) in added.enumerated() {
                switch (i, result) {
                case (10, .success(let new)): #expect(!new)
                case (20, .failure): break
                case (_, .success(let new)): #expect(new, "route \(i)")
                default: Issue.record("route \(i): \(result)")
                }
            }
            #expect(try links.lookUpRoute(to: routes.last!.destination).source == vip)
            let deleted = try links.deleteHostRoutes(routes)
            #expect(deleted.filter { (try? $0.get()) == true }.count == routes.count - 1)  // the foreign-source one was never added
            #expect(try links.lookUpRoute(to: routes.last!.destination).source == IPAddress("198.18.0.4"))
        }
    }

    @Test("Lookups carry WireGuard's firewall mark and UDP port, so policy rules pick the table its packets use")
    func policyRoutingByMarkAndPort() throws {
        try inPrivateNetworkNamespace {
            var links = try NetworkInterfaces()
            let index = try uplink(&links, addresses: ["192.0.2.4/24", "192.0.2.2/24"])
            // ip(8) runs in this thread's namespace: a child takes its parent thread's.
            for command in ["ip rule add fwmark 0x5 lookup 100", "ip rule add ipproto udp sport 51800 lookup 101",
                            "ip route add 198.51.100.0/24 via 192.0.2.9 dev up0 table 100",
                            "ip route add 198.51.100.0/24 via 192.0.2.8 dev up0 table 101"] {
                try #require(system(command) == 0, "\(command)")
            }
            let client = IPAddress("198.51.100.7")!, vip = IPAddress("192.0.2.2")!
            #expect(throws: WireGuardError.self) { try links.lookUpRoute(to: client) }  // no default route
            let marked = try links.lookUpRoute(to: client, flow: RouteFlow(mark: 5))
            #expect(marked == RouteLookup(outputInterface: index, gateway: IPAddress("192.0.2.9"), source: IPAddress("192.0.2.4"), table: 100))
            let fromPort = try links.lookUpRoute(to: client, flow: RouteFlow(udpSourcePort: 51800))
            #expect(fromPort.gateway == IPAddress("192.0.2.8") && fromPort.table == 101)
            #expect(try links.addHostRoute(to: client, along: marked, source: vip))
            #expect(try links.lookUpRoute(to: client, flow: RouteFlow(mark: 5)).source == vip)
            #expect(try links.lookUpRoute(to: client, flow: RouteFlow(udpSourcePort: 51800)).source == IPAddress("192.0.2.4"))
        }
    }

    @Test("Host routes left behind are found by their protocol, in any table, and nobody else's are")
    func hostRoutesLeftBehind() throws {
        try inPrivateNetworkNamespace {
            var links = try NetworkInterfaces()
            let index = try uplink(&links, addresses: ["192.0.2.4/24", "192.0.2.2/24", "2001:db8:1::2/64", "2001:db8:1::4/64"], noDAD: true)
            try #require(system("ip route add 192.0.2.50/32 dev up0 proto static") == 0)  // the user's own
            let vip4 = IPAddress("192.0.2.2")!, vip6 = IPAddress("2001:db8:1::2")!
            let pinned: [NetworkInterfaces.HostRoute] = [
                .init(to: IPAddress("192.0.2.101")!, along: try links.lookUpRoute(to: IPAddress("192.0.2.101")!), source: vip4),
                .init(to: IPAddress("198.51.100.7")!, along: RouteLookup(outputInterface: index, gateway: IPAddress("192.0.2.1"), source: nil, table: 100), source: vip4),
                .init(to: IPAddress("2001:db8:1::101")!, along: try links.lookUpRoute(to: IPAddress("2001:db8:1::101")!), source: vip6),
            ]
            for (route, added) in zip(pinned, try links.addHostRoutes(pinned)) { #expect(added == .success(true), "\(route.destination)") }
            let left = try links.hostRoutesLeftBehind()
            #expect(Set(left.map(\.destination)) == Set(pinned.map(\.destination)))
            #expect(left.first { $0.destination == IPAddress("198.51.100.7") }?.along.table == 100)
            for (route, deleted) in zip(left, try links.deleteHostRoutes(left)) { #expect(deleted == .success(true), "\(route.destination)") }
            #expect(try links.hostRoutesLeftBehind().isEmpty)
            #expect(system("ip route show 192.0.2.50/32 | grep -q up0") == 0)
        }
    }

    @Test("Link events carry each link's state as it changes: down, up, down, and gone")
    func linkEvents() throws {
        try inPrivateNetworkNamespace {
            let events = try LinkEvents()
            var links = try NetworkInterfaces()
            try links.createLink(named: "ev0", kind: "veth")
            try links.setLink(named: "ev0", up: true)
            try links.setLink(named: "ev0", up: false)
            try links.deleteLink(named: "ev0")
            // The kernel may send a state more than once (a carrier change, a peer's change).
            let states = events.drain().compactMap { e -> String? in
                switch e {
                case .changed(let link) where link.name == "ev0": link.isUp ? "up" : "down"
                case .removed(let link) where link.name == "ev0": "removed"
                default: nil
                }
            }
            #expect(states.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } } == ["down", "up", "down", "removed"])
            #expect(events.drain().isEmpty)
        }
    }

    @Test("A source that is not a local address is refused with the kernel's reason")
    func foreignSourceRefused() throws {
        try inPrivateNetworkNamespace {
            var links = try NetworkInterfaces()
            _ = try uplink(&links, addresses: ["192.0.2.4/24"])
            let client = IPAddress("192.0.2.101")!
            let route = try links.lookUpRoute(to: client)
            #expect(throws: WireGuardError.self) { try links.addHostRoute(to: client, along: route, source: IPAddress("203.0.113.9")!) }
        }
    }
}

/// A veth `up0` with `addresses`, up, and its index.
private func uplink(_ links: inout NetworkInterfaces, addresses: [String], noDAD: Bool = false) throws -> UInt32 {
    if noDAD {
        let file = fopen("/proc/sys/net/ipv6/conf/default/accept_dad", "w")
        try #require(file != nil)
        fputs("0\n", file)
        fclose(file)
    }
    try links.createLink(named: "up0", kind: "veth")
    for link in try links.links(kind: "veth") { try links.setLink(named: link.name, up: true) }
    for a in addresses { try links.addAddress(try #require(AllowedIP(a)), toLink: "up0") }
    // IPv6 addresses stay tentative, unusable as a source, until the kernel has seen the carrier
    // (its link watch can take a while under load), even without duplicate address detection.
    var waited = 0
    while waited < 500, system("ip -6 address show dev up0 tentative scope global | grep -q inet6") == 0 {
        usleep(10_000)
        waited += 1
    }
    return try NetworkInterfaces.index(of: "up0")
}

/// Runs `body` on a new thread in a new network namespace, which goes away with the thread.
private func inPrivateNetworkNamespace(_ body: @escaping () throws -> Void) throws {
    final class Context {
        let body: () throws -> Void
        var error: (any Error)?
        init(_ body: @escaping () throws -> Void) { self.body = body }
    }
    let context = Context(body)
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { raw in
        let context = Unmanaged<Context>.fromOpaque(raw!).takeUnretainedValue()
        if labctl_unshare_network() != 0 {
            context.error = WireGuardError.system(operation: "unshare(CLONE_NEWNET)", errno: .init(rawValue: errno))
        } else {
            do { try context.body() } catch { context.error = error }
        }
        return nil
    }, Unmanaged.passUnretained(context).toOpaque())
    try #require(started == 0)
    pthread_join(thread, nil)
    if let error = context.error { throw error }
}

import CLibMNL
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A network interface as rtnetlink lists it.
public struct NetworkLink: Sendable, Hashable {
    public let index: UInt32
    public let name: String
    /// `IFLA_INFO_KIND`: `wireguard`, `veth`, `bridge`… nil for physical devices.
    public let kind: String?
    public let isUp: Bool
    public let mtu: UInt32
}

extension NetworkLink {
    private typealias Attribute = NetworkInterfaces.Attribute

    /// An RTM_NEWLINK or RTM_DELLINK message (a reply or an event); nil when it is too short.
    init?(message: UnsafeRawBufferPointer) throws(NetlinkDecodeError) {
        guard message.count >= MemoryLayout<nlmsghdr>.size + MemoryLayout<ifinfomsg>.size else { return nil }
        let info = message.loadUnaligned(fromByteOffset: MemoryLayout<nlmsghdr>.size, as: ifinfomsg.self)
        var name = "", linkKind: String?, mtu: UInt32 = 0
        for a in try NetlinkAttributes(netlinkPayload(message, after: ifinfomsg.self)).all() {
            switch a.type {
            case Attribute.ifname: name = a.string
            case Attribute.mtu: mtu = try a.u32()
            case Attribute.linkinfo:
                for inner in try a.nested.all() where inner.type == Attribute.infoKind { linkKind = inner.string }
            default: continue
            }
        }
        self.init(index: UInt32(info.ifi_index), name: name, kind: linkKind, isUp: info.ifi_flags & UInt32(IFF_UP) != 0, mtu: mtu)
    }
}

/// Where the kernel sends packets for one address now, as `ip route get` shows it.
public struct RouteLookup: Sendable, Hashable {
    public var outputInterface: UInt32
    public var gateway: IPAddress?
    /// The source address the kernel would choose.
    public var source: IPAddress?
    /// The routing table the route was found in.
    public var table: UInt32
}

/// What besides the destination policy routing rules may match on. WireGuard's own lookups carry
/// its firewall mark and are UDP from its listen port.
public struct RouteFlow: Sendable, Hashable {
    public var mark: UInt32
    public var udpSourcePort: UInt16?
    public init(mark: UInt32 = 0, udpSourcePort: UInt16? = nil) {
        self.mark = mark
        self.udpSourcePort = udpSourcePort
    }
}

/// The rtnetlink calls wg-quick and a VRRP speaker need: list, create and delete links, set them
/// up or down, set the MTU, add, remove and list addresses, and look up and pin routes. It owns a
/// `NETLINK_ROUTE` socket.
public struct NetworkInterfaces: ~Copyable, Sendable {
    private var socket: NetlinkSocket

    public init() throws(WireGuardError) {
        socket = try NetlinkSocket(netlinkProtocol: NETLINK_ROUTE)
    }

    fileprivate enum Attribute {
        static let ifname: UInt16 = 3, mtu: UInt16 = 4, linkinfo: UInt16 = 18, infoKind: UInt16 = 1
        static let address: UInt16 = 1, local: UInt16 = 2
    }

    /// rtnetlink route constants (C enums that Swift imports as structs).
    private enum Route {
        static let destination: UInt16 = 1, outputInterface: UInt16 = 4, gateway: UInt16 = 5, preferredSource: UInt16 = 7
        static let table: UInt16 = 15, mark: UInt16 = 16, ipProtocol: UInt16 = 27, sourcePort: UInt16 = 28
        static let mainTable: UInt8 = 254, scopeLink: UInt8 = 253, scopeUniverse: UInt8 = 0, unicast: UInt8 = 1
        static let protocolKernel: UInt8 = 2, protocolBoot: UInt8 = 3
        /// RTM_F_LOOKUP_TABLE: a lookup reports the table it matched in.
        static let lookupTable: UInt32 = 0x1000
    }

    /// Every link, or only those of `kind`.
    public mutating func links(kind: String? = nil) throws(WireGuardError) -> [NetworkLink] {
        let all = try getLinks(index: nil, device: "")
        return kind.map { k in all.filter { $0.kind == k } } ?? all
    }

    /// One link, asked for by index rather than found in a dump of all of them.
    public mutating func link(named name: String) throws(WireGuardError) -> NetworkLink {
        guard let link = try getLinks(index: Self.index(of: name), device: name).first else { throw .noSuchDevice(name) }
        return link
    }

    /// RTM_GETLINK: a dump of every link (`index` nil) or the one link with that index.
    private mutating func getLinks(index: UInt32?, device: String) throws(WireGuardError) -> [NetworkLink] {
        let message = NetlinkMessageBuilder(type: UInt16(RTM_GETLINK), flags: index == nil ? NLM_F_REQUEST | NLM_F_DUMP : NLM_F_REQUEST | NLM_F_ACK,
                                            sequence: socket.nextSequence(), capacity: 256)
        var header = ifinfomsg()
        header.ifi_index = Int32(index ?? 0)
        message.putHeader(header)
        let box = Box<[NetworkLink]>([])
        try run(message, operation: index == nil ? "list links" : "get link", device: device) { reply in
            if let link = try NetworkLink(message: reply) { box.value.append(link) }
        }
        return box.value
    }

    /// `ip link add NAME type KIND`.
    public mutating func createLink(named name: String, kind: String = "wireguard") throws(WireGuardError) {
        let message = NetlinkMessageBuilder(type: UInt16(RTM_NEWLINK), flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                                            sequence: socket.nextSequence(), capacity: 512)
        message.putHeader(ifinfomsg())
        message.put(Attribute.ifname, string: name)
        if let info = message.nestStart(Attribute.linkinfo) {
            message.put(Attribute.infoKind, string: kind)
            message.nestEnd(info)
        }
        try run(message, operation: "create link", device: name) { _ in }
    }

    /// `ip link del NAME`.
    public mutating func deleteLink(named name: String) throws(WireGuardError) {
        let index = try Self.index(of: name)
        let message = NetlinkMessageBuilder(type: UInt16(RTM_DELLINK), flags: NLM_F_REQUEST | NLM_F_ACK,
                                            sequence: socket.nextSequence(), capacity: 256)
        var info = ifinfomsg()
        info.ifi_index = Int32(index)
        message.putHeader(info)
        try run(message, operation: "delete link", device: name) { _ in }
    }

    /// `ip link set NAME up|down`.
    public mutating func setLink(named name: String, up: Bool) throws(WireGuardError) {
        try changeLink(name, operation: up ? "set up" : "set down", header: { info in
            info.ifi_flags = up ? UInt32(IFF_UP) : 0
            info.ifi_change = UInt32(IFF_UP)
        })
    }

    /// `ip link set NAME mtu MTU`.
    public mutating func setMTU(_ mtu: UInt32, ofLink name: String) throws(WireGuardError) {
        try changeLink(name, operation: "set mtu", attributes: { message in message.put(Attribute.mtu, mtu) })
    }

    /// `ip address add ADDRESS/PREFIX dev NAME` (replacing an identical one).
    public mutating func addAddress(_ address: AllowedIP, toLink name: String) throws(WireGuardError) {
        try changeAddress(address, name, add: true)
    }

    /// `ip address del ADDRESS/PREFIX dev NAME`.
    public mutating func deleteAddress(_ address: AllowedIP, fromLink name: String) throws(WireGuardError) {
        try changeAddress(address, name, add: false)
    }

    /// The addresses on a link, with their prefix lengths.
    public mutating func addresses(ofLink name: String) throws(WireGuardError) -> [AllowedIP] {
        let index = try Self.index(of: name)
        let message = NetlinkMessageBuilder(type: UInt16(RTM_GETADDR), flags: NLM_F_REQUEST | NLM_F_DUMP,
                                            sequence: socket.nextSequence(), capacity: 256)
        message.putHeader(ifaddrmsg())
        let box = Box<[AllowedIP]>([])
        try run(message, operation: "list addresses", device: name) { reply in
            guard reply.count >= MemoryLayout<nlmsghdr>.size + MemoryLayout<ifaddrmsg>.size else { return }
            let info = reply.loadUnaligned(fromByteOffset: MemoryLayout<nlmsghdr>.size, as: ifaddrmsg.self)
            guard info.ifa_index == index else { return }
            var address: IPAddress?, local: IPAddress?
            for a in try NetlinkAttributes(netlinkPayload(reply, after: ifaddrmsg.self)).all() {
                if a.type == Attribute.address { address = IPAddress(bytes: a.payload) }
                if a.type == Attribute.local { local = IPAddress(bytes: a.payload) }
            }
            if let ip = local ?? address, let prefix = AllowedIP(address: ip, prefixLength: Int(info.ifa_prefixlen)) {
                box.value.append(prefix)
            }
        }
        return box.value
    }

    /// The routes in the main table that leave through a link and that the kernel did not add
    /// itself for an address: what `wg-quick up` added for the peers' allowed IPs.
    public mutating func routes(ofLink name: String) throws(WireGuardError) -> [AllowedIP] {
        let index = try Self.index(of: name)
        return try dumpRoutes(device: name).compactMap { r in
            guard r.header.rtm_type == Route.unicast, r.header.rtm_protocol != Route.protocolKernel,
                  r.route.table == UInt32(Route.mainTable), r.route.outputInterface == index else { return nil }
            let zero = IPAddress(bytes: [UInt8](repeating: 0, count: r.header.rtm_family == UInt8(AF_INET) ? 4 : 16))!
            return AllowedIP(address: r.destination ?? zero, prefixLength: Int(r.header.rtm_dst_len))
        }
    }

    /// A route as rtnetlink reports it: the header, and the attributes these calls use.
    private struct RouteMessage {
        var header: rtmsg
        var destination: IPAddress?
        var route: RouteLookup

        init?(_ reply: UnsafeRawBufferPointer) throws(NetlinkDecodeError) {
            guard reply.count >= MemoryLayout<nlmsghdr>.size + MemoryLayout<rtmsg>.size else { return nil }
            header = reply.loadUnaligned(fromByteOffset: MemoryLayout<nlmsghdr>.size, as: rtmsg.self)
            route = RouteLookup(outputInterface: 0, gateway: nil, source: nil, table: UInt32(header.rtm_table))
            for a in try NetlinkAttributes(netlinkPayload(reply, after: rtmsg.self)).all() {
                switch a.type {
                case Route.destination: destination = IPAddress(bytes: a.payload)
                case Route.table: route.table = try a.u32()
                case Route.outputInterface: route.outputInterface = try a.u32()
                case Route.gateway: route.gateway = IPAddress(bytes: a.payload)
                case Route.preferredSource: route.source = IPAddress(bytes: a.payload)
                default: continue
                }
            }
        }
    }

    /// Every route of both families, in every table.
    private mutating func dumpRoutes(device: String) throws(WireGuardError) -> [RouteMessage] {
        var found: [RouteMessage] = []
        for family in [AF_INET, AF_INET6] {
            let message = NetlinkMessageBuilder(type: UInt16(RTM_GETROUTE), flags: NLM_F_REQUEST | NLM_F_DUMP,
                                                sequence: socket.nextSequence(), capacity: 256)
            var header = rtmsg()
            header.rtm_family = UInt8(family)
            message.putHeader(header)
            let box = Box<[RouteMessage]>([])
            try run(message, operation: "list routes", device: device) { reply in
                if let route = try RouteMessage(reply) { box.value.append(route) }
            }
            found += box.value
        }
        return found
    }

    /// `ip route replace PREFIX dev NAME` in the main table.
    public mutating func addRoute(_ destination: AllowedIP, toLink name: String) throws(WireGuardError) {
        let index = try Self.index(of: name)
        let message = NetlinkMessageBuilder(type: UInt16(RTM_NEWROUTE), flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
                                            sequence: socket.nextSequence(), capacity: 256)
        var header = rtmsg()
        header.rtm_family = UInt8(destination.address.family.addressFamily)
        header.rtm_dst_len = destination.prefixLength
        header.rtm_table = Route.mainTable
        header.rtm_protocol = Route.protocolBoot
        header.rtm_scope = Route.scopeLink
        header.rtm_type = Route.unicast
        message.putHeader(header)
        destination.canonical.address.withUnsafeBytes { message.put(Route.destination, bytes: $0) }
        message.put(Route.outputInterface, index)
        try run(message, operation: "add route \(destination)", device: name) { _ in }
    }

    /// `ip route get ADDRESS [mark M] [ipproto udp sport P]`: the route the kernel uses for
    /// `destination`, and the source it picks.
    public mutating func lookUpRoute(to destination: IPAddress, flow: RouteFlow = RouteFlow()) throws(WireGuardError) -> RouteLookup {
        try lookUpRoutes(to: [destination], flow: flow)[0].get()
    }

    /// ``lookUpRoute(to:flow:)`` for many addresses, many requests to a datagram: one result each, in order.
    public mutating func lookUpRoutes(to destinations: [IPAddress], flow: RouteFlow = RouteFlow()) throws(WireGuardError) -> [Result<RouteLookup, WireGuardError>] {
        var extra: [(UInt16, [UInt8])] = []
        if flow.mark != 0 { extra.append((Route.mark, hostOrder(flow.mark))) }
        if let port = flow.udpSourcePort {
            extra.append((Route.ipProtocol, [UInt8(IPPROTO_UDP)]))
            extra.append((Route.sourcePort, hostOrder(port.bigEndian)))
        }
        return try pipelined(destinations, flags: NLM_F_REQUEST, type: UInt16(RTM_GETROUTE)) { destination in
            var header = rtmsg()
            header.rtm_family = UInt8(destination.family.addressFamily)
            header.rtm_dst_len = UInt8(destination.family.bitCount)
            header.rtm_flags = Route.lookupTable
            return (header, [(Route.destination, destination.bytes)] + extra)
        } reply: { destination, reply -> Result<RouteLookup, WireGuardError> in
            do {
                guard let reply, let found = try RouteMessage(reply) else {
                    return .failure(.malformedReply("no route in the reply to a route lookup for \(destination)"))
                }
                return .success(found.route)
            } catch {
                return .failure(.malformedReply((error as? NetlinkDecodeError)?.reason ?? "\(error)"))
            }
        } operation: { "look up the route to \($0)" }
    }

    /// A host route along the route to its destination, with a chosen source address.
    public struct HostRoute: Sendable, Hashable {
        public var destination: IPAddress
        public var along: RouteLookup
        /// A local address.
        public var source: IPAddress
        public init(to destination: IPAddress, along: RouteLookup, source: IPAddress) {
            self.destination = destination
            self.along = along
            self.source = source
        }
    }

    /// The routing protocol number host routes are added with, so that they can be told from
    /// everyone else's (`ip route show proto 76`) and found again after a crash. No routing
    /// daemon in linux/rtnetlink.h uses it.
    public static let hostRouteProtocol: UInt8 = 76

    /// `ip route add ADDRESS/32 [via GATEWAY] dev OIF src SOURCE table T proto 76` (/128 for
    /// IPv6): a host route along `route` whose packets leave from `source`, a local address.
    /// False when a route to that host exists in the table already; it is left as it is.
    @discardableResult
    public mutating func addHostRoute(to destination: IPAddress, along route: RouteLookup, source: IPAddress) throws(WireGuardError) -> Bool {
        try addHostRoutes([HostRoute(to: destination, along: route, source: source)])[0].get()
    }

    /// ``addHostRoute(to:along:source:)`` for many routes, many requests to a datagram: one result each, in order.
    public mutating func addHostRoutes(_ routes: [HostRoute]) throws(WireGuardError) -> [Result<Bool, WireGuardError>] {
        try changeHostRoutes(routes, type: UInt16(RTM_NEWROUTE), flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                             absent: .fileExists) { "add route \($0.destination) src \($0.source)" }
    }

    /// Deletes the host route ``addHostRoute(to:along:source:)`` added. False when it was gone.
    @discardableResult
    public mutating func deleteHostRoute(to destination: IPAddress, along route: RouteLookup) throws(WireGuardError) -> Bool {
        try deleteHostRoutes([HostRoute(to: destination, along: route, source: destination)])[0].get()
    }

    /// ``deleteHostRoute(to:along:)`` for many routes (their sources do not matter).
    public mutating func deleteHostRoutes(_ routes: [HostRoute]) throws(WireGuardError) -> [Result<Bool, WireGuardError>] {
        try changeHostRoutes(routes, type: UInt16(RTM_DELROUTE), flags: NLM_F_REQUEST | NLM_F_ACK, absent: .noSuchProcess) {
            "delete route \($0.destination)"
        }
    }

    /// The host routes ``addHostRoute(to:along:source:)`` added that are still there, in every
    /// table: after a crash, what is left to delete. (IPv6 keeps them when their source goes.)
    public mutating func hostRoutesLeftBehind() throws(WireGuardError) -> [HostRoute] {
        try dumpRoutes(device: "").compactMap { r in
            guard r.header.rtm_protocol == Self.hostRouteProtocol, let destination = r.destination,
                  Int(r.header.rtm_dst_len) == destination.family.bitCount else { return nil }
            return HostRoute(to: destination, along: r.route, source: r.route.source ?? destination)
        }
    }

    /// Adds or deletes host routes; false for a route where the kernel answers `absent`.
    private mutating func changeHostRoutes(_ routes: [HostRoute], type: UInt16, flags: Int32, absent: Errno,
                                           operation: (HostRoute) -> String) throws(WireGuardError) -> [Result<Bool, WireGuardError>] {
        let adding = type == UInt16(RTM_NEWROUTE)
        return try pipelined(routes, flags: flags, type: type, absent: (absent, false)) { r in
            var header = rtmsg()
            header.rtm_family = UInt8(r.destination.family.addressFamily)
            header.rtm_dst_len = UInt8(r.destination.family.bitCount)
            header.rtm_table = r.along.table < 256 ? UInt8(r.along.table) : 252  // RT_TABLE_COMPAT: see RTA_TABLE
            header.rtm_protocol = Self.hostRouteProtocol
            header.rtm_scope = r.along.gateway == nil ? Route.scopeLink : Route.scopeUniverse
            header.rtm_type = Route.unicast
            var attributes: [(UInt16, [UInt8])] = [(Route.destination, r.destination.bytes), (Route.table, hostOrder(r.along.table)),
                                                   (Route.outputInterface, hostOrder(r.along.outputInterface))]
            if let gateway = r.along.gateway { attributes.append((Route.gateway, gateway.bytes)) }
            if adding { attributes.append((Route.preferredSource, r.source.bytes)) }
            return (header, attributes)
        } reply: { _, _ in .success(true) } operation: { operation($0) }
    }

    /// Sends one request per item, many to a datagram, and turns each reply into a result:
    /// `reply(item, data)` for a data message or an acknowledgement (nil), `absent`'s value where
    /// the kernel answers its errno, and the kernel's errno otherwise.
    private mutating func pipelined<Item, Value>(_ items: [Item], flags: Int32, type: UInt16, absent: (Errno, Value)? = nil,
                                                 request: (Item) -> (rtmsg, [(UInt16, [UInt8])]),
                                                 reply: (Item, UnsafeRawBufferPointer?) -> Result<Value, WireGuardError>,
                                                 operation: (Item) -> String) throws(WireGuardError) -> [Result<Value, WireGuardError>] {
        var results: [Result<Value, WireGuardError>] = []
        results.reserveCapacity(items.count)
        var start = 0
        while start < items.count {
            // The kernel answers a whole datagram before we read: 64 replies (about 1 KiB each as
            // socket buffer) stay well inside the default receive buffer limit (rmem_max, 208 KiB).
            let chunk = items[start..<min(start + 64, items.count)]
            let first = socket.reserveSequences(chunk.count)
            var bytes: [UInt8] = []
            for (offset, item) in chunk.enumerated() {
                let (header, attributes) = request(item)
                appendRequest(to: &bytes, type: type, flags: flags, sequence: first &+ UInt32(offset), header: header, attributes: attributes)
            }
            var replies = [[UInt8]?](repeating: nil, count: chunk.count)
            let outcomes: [Errno?]
            do {
                outcomes = try socket.pipeline(bytes, count: chunk.count, firstSequence: first) { index, message in replies[index] = Array(message) }
            } catch let error as WireGuardError {
                throw error
            } catch let error as NetlinkDecodeError {
                throw .malformedReply(error.reason)
            } catch {
                throw .malformedReply("\(error)")
            }
            for (offset, item) in chunk.enumerated() {
                switch outcomes[offset] {
                case .none:
                    results.append(replies[offset].map { bytes in bytes.withUnsafeBytes { reply(item, $0) } } ?? reply(item, nil))
                case .some(let errno) where errno == absent?.0:
                    results.append(.success(absent!.1))
                case .some(let errno):
                    results.append(.failure(.failed(errno, operation: operation(item))))
                }
            }
            start += chunk.count
        }
        return results
    }

    /// One netlink request with an `rtmsg` and attributes, appended as bytes.
    private func appendRequest(to out: inout [UInt8], type: UInt16, flags: Int32, sequence: UInt32, header: rtmsg,
                               attributes: [(UInt16, [UInt8])]) {
        let start = out.count
        out += hostOrder(UInt32(0))  // nlmsg_len, set below
        out += hostOrder(type) + hostOrder(UInt16(flags)) + hostOrder(sequence) + hostOrder(UInt32(0))
        withUnsafeBytes(of: header) { out += $0 }
        while out.count % 4 != 0 { out.append(0) }
        for (kind, payload) in attributes {
            out += hostOrder(UInt16(4 + payload.count)) + hostOrder(kind) + payload
            while out.count % 4 != 0 { out.append(0) }
        }
        withUnsafeBytes(of: UInt32(out.count - start)) { raw in for i in 0..<4 { out[start + i] = raw[i] } }
    }

    /// if_nametoindex(3).
    public static func index(of name: String) throws(WireGuardError) -> UInt32 {
        let index = if_nametoindex(name)
        guard index != 0 else { throw .noSuchDevice(name) }
        return index
    }

    /// An endpoint's zone, `%3` or `%eth0`, as a scope id; nil for an unknown interface.
    public static func scopeIndex(ofZone zone: String) -> UInt32? {
        UInt32(zone) ?? (try? index(of: zone))
    }

    /// if_indextoname(3), for endpoint scope ids.
    public static func name(ofIndex index: UInt32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index, &buffer) != nil else { return nil }
        return String(cString: buffer)
    }

    private mutating func changeLink(_ name: String, operation: String, header: (inout ifinfomsg) -> Void = { _ in },
                                     attributes: (borrowing NetlinkMessageBuilder) -> Void = { _ in }) throws(WireGuardError) {
        let index = try Self.index(of: name)
        let message = NetlinkMessageBuilder(type: UInt16(RTM_NEWLINK), flags: NLM_F_REQUEST | NLM_F_ACK,
                                            sequence: socket.nextSequence(), capacity: 256)
        var info = ifinfomsg()
        info.ifi_index = Int32(index)
        header(&info)
        message.putHeader(info)
        attributes(message)
        try run(message, operation: operation, device: name) { _ in }
    }

    private mutating func changeAddress(_ address: AllowedIP, _ name: String, add: Bool) throws(WireGuardError) {
        let index = try Self.index(of: name)
        let flags = add ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE : NLM_F_REQUEST | NLM_F_ACK
        let message = NetlinkMessageBuilder(type: UInt16(add ? RTM_NEWADDR : RTM_DELADDR), flags: flags,
                                            sequence: socket.nextSequence(), capacity: 256)
        var info = ifaddrmsg()
        info.ifa_family = UInt8(address.address.family.addressFamily)
        info.ifa_prefixlen = address.prefixLength
        info.ifa_index = index
        message.putHeader(info)
        address.address.withUnsafeBytes { raw in
            message.put(Attribute.local, bytes: raw)
            message.put(Attribute.address, bytes: raw)
        }
        try run(message, operation: add ? "add address \(address)" : "delete address \(address)", device: name) { _ in }
    }

    private func run(_ message: borrowing NetlinkMessageBuilder, operation: String, device: String,
                     _ body: @escaping (UnsafeRawBufferPointer) throws -> Void) throws(WireGuardError) {
        do {
            try socket.transact(message, onReply: body)
        } catch let error as NetlinkKernelError {
            if error.errno == .fileExists && operation == "create link" { throw .invalidArgument("\(device) already exists") }
            throw .failed(error.errno, operation: device.isEmpty ? operation : "\(operation) \(device)")
        } catch let error as NetlinkDecodeError {
            throw .malformedReply(error.reason)
        } catch {
            throw error as! WireGuardError
        }
    }
}

/// Link events from the kernel (`RTMGRP_LINK`): poll ``descriptor`` and call ``drain()`` when it
/// is readable. A link's events carry its state at the time, so a deleted or downed interface is
/// noticed at once, without asking the kernel, which answers only once a deletion is over.
public struct LinkEvents: ~Copyable, Sendable {
    public let descriptor: Int32

    /// One event: a link as it is now, or as it was when it went away.
    public enum Event: Sendable, Hashable {
        case changed(NetworkLink)
        case removed(NetworkLink)
        /// Events were lost (the socket's buffer overflowed): look at the links again.
        case overrun

        public var link: NetworkLink? {
            switch self {
            case .changed(let link), .removed(let link): link
            case .overrun: nil
            }
        }
    }

    public init() throws(WireGuardError) {
        let fd = socket(AF_NETLINK, SocketType.raw | SocketType.nonBlocking | SocketType.closeOnExec, NETLINK_ROUTE)
        guard fd >= 0 else { throw .system(operation: "netlink socket", errno: Errno(rawValue: errno)) }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_groups = UInt32(RTMGRP_LINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        guard bound == 0 else {
            let e = Errno(rawValue: errno)
            close(fd)
            throw .system(operation: "netlink bind RTMGRP_LINK", errno: e)
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Reads every queued event, oldest first.
    public func drain() -> [Event] {
        var events: [Event] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { buffer.withUnsafeBytes { events += Self.decode(UnsafeRawBufferPointer(rebasing: $0[..<n])) }; continue }
            if n < 0 && errno == ENOBUFS { events.append(.overrun); continue }
            if n < 0 && errno == EINTR { continue }
            return events
        }
    }

    /// The events in one datagram; what is not a link message, or is malformed, is skipped.
    public static func decode(_ datagram: UnsafeRawBufferPointer) -> [Event] {
        var events: [Event] = []
        for (header, message) in NetlinkMessages(datagram) {
            if header.nlmsg_type == UInt16(RTM_NEWLINK) || header.nlmsg_type == UInt16(RTM_DELLINK),
               let link = try? NetworkLink(message: message) {
                events.append(header.nlmsg_type == UInt16(RTM_DELLINK) ? .removed(link) : .changed(link))
            }
        }
        return events
    }
}

private func hostOrder<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

/// A mutable value the reply closures can share.
final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}

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

/// The rtnetlink calls wg-quick and a VRRP speaker need: list, create and delete links, set them
/// up or down, set the MTU, and add, remove and list addresses. It owns a `NETLINK_ROUTE` socket.
public struct NetworkInterfaces: ~Copyable, Sendable {
    private var socket: NetlinkSocket

    public init() throws(WireGuardError) {
        socket = try NetlinkSocket(netlinkProtocol: NETLINK_ROUTE)
    }

    private enum Attribute {
        static let ifname: UInt16 = 3, mtu: UInt16 = 4, linkinfo: UInt16 = 18, infoKind: UInt16 = 1
        static let address: UInt16 = 1, local: UInt16 = 2
    }

    /// Every link, or only those of `kind`.
    public mutating func links(kind: String? = nil) throws(WireGuardError) -> [NetworkLink] {
        let message = NetlinkMessageBuilder(type: UInt16(RTM_GETLINK), flags: NLM_F_REQUEST | NLM_F_DUMP,
                                            sequence: socket.nextSequence(), capacity: 256)
        message.putHeader(ifinfomsg())
        let box = Box<[NetworkLink]>([])
        try run(message, operation: "list links", device: "") { reply in
            guard reply.count >= MemoryLayout<nlmsghdr>.size + MemoryLayout<ifinfomsg>.size else { return }
            let info = reply.loadUnaligned(fromByteOffset: MemoryLayout<nlmsghdr>.size, as: ifinfomsg.self)
            var name = "", linkKind: String?, mtu: UInt32 = 0
            for a in try NetlinkAttributes(netlinkPayload(reply, after: ifinfomsg.self)).all() {
                switch a.type {
                case Attribute.ifname: name = a.string
                case Attribute.mtu: mtu = try a.u32()
                case Attribute.linkinfo:
                    for inner in try a.nested.all() where inner.type == Attribute.infoKind { linkKind = inner.string }
                default: continue
                }
            }
            box.value.append(NetworkLink(index: UInt32(info.ifi_index), name: name, kind: linkKind,
                                         isUp: info.ifi_flags & UInt32(IFF_UP) != 0, mtu: mtu))
        }
        return kind.map { k in box.value.filter { $0.kind == k } } ?? box.value
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
        address.address.bytes.withUnsafeBytes { raw in
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
            switch error.errno {
            case .notPermitted, .permissionDenied: throw .permissionDenied(operation: "\(operation) \(device)")
            case .fileExists where operation == "create link": throw .invalidArgument("\(device) already exists")
            default: throw .system(operation: device.isEmpty ? operation : "\(operation) \(device)", errno: error.errno)
            }
        } catch let error as NetlinkDecodeError {
            throw .malformedReply(error.reason)
        } catch {
            throw error as! WireGuardError
        }
    }
}

/// A mutable value the reply closures can share.
final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}

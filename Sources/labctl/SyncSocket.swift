import SystemPackage
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// The UDP socket of an endpoint sync channel: bound to the sync port on every address, joined to
/// the VRRP multicast group of one interface when the channel is multicast. It owns the descriptor.
struct SyncSocket: ~Copyable, Sendable {
    let descriptor: Int32
    let ipv6: Bool
    let interfaceIndex: UInt32
    let port: UInt16

    init(ipv6: Bool, port: UInt16, interfaceIndex: UInt32, joinGroup: VRRPAddress?) throws(VRRPSystemError) {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, SocketType.datagram | SocketType.nonBlocking | SocketType.closeOnExec, 0)
        guard fd >= 0 else { throw VRRPSystemError("sync socket", Errno(rawValue: errno)) }
        var one: Int32 = 1, zero: Int32 = 0
        func option(_ level: Int32, _ name: Int32, _ value: inout Int32) {
            _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        option(SOL_SOCKET, SO_REUSEADDR, &one)
        var bound: Int32
        if ipv6 {
            option(Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one)
            option(Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, &zero)
            var hops: Int32 = 255
            option(Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops)
            var index = Int32(interfaceIndex)
            option(Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &index)
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            option(Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &zero)
            // Out of the VRRP interface, not wherever the routing table sends 224.0.0.0/4 (if anywhere).
            var outgoing = ip_mreqn()
            outgoing.imr_ifindex = Int32(interfaceIndex)
            _ = setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &outgoing, socklen_t(MemoryLayout<ip_mreqn>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard bound == 0 else {
            let e = Errno(rawValue: errno)
            close(fd)
            throw VRRPSystemError("sync socket: bind port \(port)", e)
        }
        if let group = joinGroup {
            var status: Int32
            if ipv6 {
                var request = ipv6_mreq()
                withUnsafeMutableBytes(of: &request.ipv6mr_multiaddr) { $0.copyBytes(from: group.bytes) }
                request.ipv6mr_interface = interfaceIndex
                status = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ipv6_mreq>.size))
            } else {
                var request = ip_mreqn()
                withUnsafeMutableBytes(of: &request.imr_multiaddr) { $0.copyBytes(from: group.bytes) }
                request.imr_ifindex = Int32(interfaceIndex)
                status = setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ip_mreqn>.size))
            }
            guard status == 0 else {
                let e = Errno(rawValue: errno)
                close(fd)
                throw VRRPSystemError("sync socket: join \(group)", e)
            }
        }
        descriptor = fd
        self.ipv6 = ipv6
        self.interfaceIndex = interfaceIndex
        self.port = port
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8], to destination: VRRPAddress, port: UInt16? = nil) throws(VRRPSystemError) {
        let port = port ?? self.port
        let sent: Int
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: destination.bytes) }
            // Link-local destinations need the interface.
            if destination.bytes[0] == 0xFE || destination.bytes[0] == 0xFF { address.sin6_scope_id = interfaceIndex }
            sent = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: destination.bytes) }
            sent = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard sent == bytes.count else { throw VRRPSystemError("sync send to \(destination)", Errno(rawValue: errno)) }
    }

    /// The next queued datagram and its source address, or nil when none is queued.
    func receive(into buffer: inout [UInt8]) -> (bytes: ArraySlice<UInt8>, source: String)? {
        var from = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, raw.baseAddress, raw.count, 0, $0, &length)
                } }
            }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            let source: [UInt8] = ipv6
                ? withUnsafeBytes(of: from.sin6_addr) { Array($0) }
                : withUnsafeBytes(of: &from) { raw in Array(raw[4..<8]) }
            return (buffer[..<n], VRRPAddress(bytes: source)?.description ?? "?")
        }
    }
}

/// socket(2) type flags as numbers: which Clang module owns glibc's `__socket_type` depends on the
/// build order of the C modules, so a file that does not import that module may not see them.
enum SocketType {
    static let datagram: Int32 = 2, raw: Int32 = 3
    static let nonBlocking: Int32 = 0o4000, closeOnExec: Int32 = 0o2000000
}

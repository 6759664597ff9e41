import CLinuxShims
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A raw IP socket for protocol 112 on one interface. A receiving socket joins 224.0.0.18 or
/// ff02::12 and is bound to no address (the kernel delivers to a bound raw socket only packets
/// addressed to that address). A sending socket is bound to the router's primary address and
/// sends with TTL/hop limit 255.
public struct VRRPSocket: ~Copyable, @unchecked Sendable {  // one owner; the descriptor is not shared
    public let descriptor: Int32
    public let isIPv6: Bool
    public let interfaceIndex: Int32
    /// The bound source address of a sending socket.
    public let source: VRRPAddress?

    public static let ipv4Group = VRRPAddress(bytes: [224, 0, 0, 18])!
    public static let ipv6Group = VRRPAddress(bytes: [0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [0x12])!

    /// - Parameter source: the address to send from; nil for a receiving socket.
    public init(interface: InterfaceInfo, ipv6: Bool, source: VRRPAddress?) throws {
        descriptor = try Self.open(interface: interface, isIPv6: ipv6, source: source)
        isIPv6 = ipv6
        interfaceIndex = interface.index
        self.source = source
    }

    private static func open(interface: InterfaceInfo, isIPv6: Bool, source: VRRPAddress?) throws -> Int32 {
        let joinGroup = source == nil
        let fd = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                        Int32(VRRPCodec.ipProtocol))
        guard fd >= 0 else { throw VRRPSystemError.last("socket(IPPROTO_VRRP)") }
        func option<T>(_ level: Int32, _ name: Int32, _ value: T, _ what: String) throws {
            var v = value
            guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<T>.size)) == 0 else {
                throw VRRPSystemError.last("setsockopt(\(what))")
            }
        }
        do {
            if joinGroup {
                // Room for bursts: 50 routers at 10 ms are 5,000 packets a second per peer.
                var size: Int32 = 4 << 20
                if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, 4) != 0 {
                    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4)
                }
            }
            var name = Array(interface.name.utf8CString)
            guard setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, &name, socklen_t(name.count)) == 0 else {
                throw VRRPSystemError.last("SO_BINDTODEVICE \(interface.name)")
            }
            if isIPv6 {
                try option(Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, Int32(255), "IPV6_MULTICAST_HOPS")
                try option(Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, Int32(255), "IPV6_UNICAST_HOPS")
                try option(Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, Int32(0), "IPV6_MULTICAST_LOOP")
                try option(Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, Int32(interface.index), "IPV6_MULTICAST_IF")
                try option(Int32(IPPROTO_IPV6), IPV6_RECVHOPLIMIT, Int32(1), "IPV6_RECVHOPLIMIT")
                try option(Int32(IPPROTO_IPV6), IPV6_RECVPKTINFO, Int32(1), "IPV6_RECVPKTINFO")
                try option(Int32(IPPROTO_IPV6), IPV6_TCLASS, Int32(0xC0), "IPV6_TCLASS")
                if let source, !bindAddress(fd, sockaddr_in6.make(source, scope: interface.index)) {
                    throw VRRPSystemError.last("bind \(source)%\(interface.name)")
                }
                if joinGroup {
                    var group = ipv6_mreq()
                    withUnsafeMutableBytes(of: &group.ipv6mr_multiaddr) { $0.copyBytes(from: Self.ipv6Group.bytes) }
                    group.ipv6mr_interface = UInt32(interface.index)
                    try option(Int32(IPPROTO_IPV6), IPV6_JOIN_GROUP, group, "IPV6_JOIN_GROUP ff02::12")
                }
            } else {
                try option(Int32(IPPROTO_IP), IP_MULTICAST_TTL, Int32(255), "IP_MULTICAST_TTL")
                try option(Int32(IPPROTO_IP), IP_TTL, Int32(255), "IP_TTL")
                try option(Int32(IPPROTO_IP), IP_MULTICAST_LOOP, Int32(0), "IP_MULTICAST_LOOP")
                try option(Int32(IPPROTO_IP), IP_TOS, Int32(0xC0), "IP_TOS")
                var request = ip_mreqn()
                request.imr_ifindex = interface.index
                if let source { withUnsafeMutableBytes(of: &request.imr_address) { $0.copyBytes(from: source.bytes) } }
                try option(Int32(IPPROTO_IP), IP_MULTICAST_IF, request, "IP_MULTICAST_IF")
                if let source, !bindAddress(fd, sockaddr_in.make(source)) {
                    throw VRRPSystemError.last("bind \(source)")
                }
                if joinGroup {
                    withUnsafeMutableBytes(of: &request.imr_multiaddr) { $0.copyBytes(from: Self.ipv4Group.bytes) }
                    try option(Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, request, "IP_ADD_MEMBERSHIP 224.0.0.18")
                }
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    deinit { close(descriptor) }

    /// Sends one VRRP message (the kernel adds the IP header).
    public func send(_ message: [UInt8], to destination: VRRPAddress) throws {
        let sent: Int
        if isIPv6 {
            sent = sendDatagram(descriptor, message, to: sockaddr_in6.make(destination, scope: interfaceIndex))
        } else {
            sent = sendDatagram(descriptor, message, to: sockaddr_in.make(destination))
        }
        guard sent == message.count else { throw VRRPSystemError.last("send VRRP to \(destination)") }
    }

    /// One received packet: addresses, TTL/hop limit and the VRRP message. Nil when nothing is
    /// waiting (the socket is non-blocking) or the packet is not VRRP.
    public func receive(into buffer: inout [UInt8]) -> (source: VRRPAddress, destination: VRRPAddress, ttl: UInt8, message: ArraySlice<UInt8>)? {
        if !isIPv6 {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard n > 0, let ip = buffer.withUnsafeBytes({ VRRPCodec.ipHeader(UnsafeRawBufferPointer(rebasing: $0[..<n])) }) else { return nil }
            return (ip.source, ip.destination, ip.ttl, buffer[ip.message])
        }
        var from = sockaddr_in6()
        var destination = in6_addr()
        var hopLimit: Int32 = -1
        let n: Int = buffer.withUnsafeMutableBytes { data in
            withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { ctl in
                withUnsafeMutablePointer(to: &from) { fromPointer in
                    var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPointer in
                        var header = msghdr(msg_name: UnsafeMutableRawPointer(fromPointer), msg_namelen: socklen_t(MemoryLayout<sockaddr_in6>.size),
                                            msg_iov: iovPointer, msg_iovlen: 1, msg_control: ctl.baseAddress,
                                            msg_controllen: ctl.count, msg_flags: 0)
                        let n = recvmsg(descriptor, &header, 0)
                        guard n > 0 else { return n }
                        var hops: Int32 = -1
                        var info = labctl_in6_pktinfo()
                        guard labctl_cmsg_find(&header, Int32(IPPROTO_IPV6), IPV6_HOPLIMIT, &hops, 4) == 4,
                              labctl_cmsg_find(&header, Int32(IPPROTO_IPV6), IPV6_PKTINFO, &info, MemoryLayout<labctl_in6_pktinfo>.size) > 0 else {
                            return -1
                        }
                        destination = info.addr
                        hopLimit = hops
                        return n
                    }
                }
            }
        }
        guard n > 0 else { return nil }
        let source = withUnsafeBytes(of: from.sin6_addr) { VRRPAddress(bytes: $0)! }
        return (source, withUnsafeBytes(of: destination) { VRRPAddress(bytes: $0)! }, UInt8(clamping: hopLimit), buffer[0..<n])
    }
}

/// Sends gratuitous ARP and unsolicited neighbour advertisements for the VIPs of a new master.
public struct AnnouncementSocket: ~Copyable, @unchecked Sendable {  // one owner
    private let packetSocket: Int32
    private let icmpSocket: Int32

    public init() throws {
        let packet = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(UInt16(ETH_P_ARP).bigEndian))
        guard packet >= 0 else { throw VRRPSystemError.last("socket(AF_PACKET)") }
        let icmp = socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
        guard icmp >= 0 else {
            close(packet)
            throw VRRPSystemError.last("socket(IPPROTO_ICMPV6)")
        }
        packetSocket = packet
        icmpSocket = icmp
        var hops: Int32 = 255
        setsockopt(icmpSocket, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, 4)
        setsockopt(icmpSocket, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, &hops, 4)
    }

    deinit {
        close(packetSocket)
        close(icmpSocket)
    }

    /// Announces `address` from `interface` (whose MAC the neighbours learn).
    public func announce(_ address: VRRPAddress, on interface: InterfaceInfo) throws {
        guard interface.mac.count == 6 else { return }  // not Ethernet: nothing to announce
        if address.isIPv6 {
            var index = UInt32(interface.index)
            setsockopt(icmpSocket, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &index, 4)
            let packet = VRRPAnnouncement.unsolicitedNeighborAdvertisement(address: address, mac: interface.mac)
            let allNodes = VRRPAddress(bytes: [0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [1])!
            let sent = sendDatagram(icmpSocket, packet, to: sockaddr_in6.make(allNodes, scope: interface.index))
            guard sent == packet.count else { throw VRRPSystemError.last("send neighbour advertisement for \(address)") }
        } else {
            let packet = VRRPAnnouncement.gratuitousARP(address: address, mac: interface.mac)
            var to = sockaddr_ll()
            to.sll_family = UInt16(AF_PACKET)
            to.sll_protocol = UInt16(ETH_P_ARP).bigEndian
            to.sll_ifindex = interface.index
            to.sll_halen = 6
            withUnsafeMutableBytes(of: &to.sll_addr) { for i in 0..<6 { $0[i] = 0xFF } }
            let sent = sendDatagram(packetSocket, packet, to: to)
            guard sent == packet.count else { throw VRRPSystemError.last("send gratuitous ARP for \(address)") }
        }
    }

    /// Announces each virtual address of `instance` twice, from the interface it lives on (an
    /// interface that is gone is skipped), as a new master does. Each failed send goes to `failed`.
    public func announceVirtualAddresses(of instance: KeepalivedConfig.Instance, failed: (any Error) -> Void) {
        for vip in instance.virtualAddresses {
            guard let info = try? InterfaceInfo.named(vip.device ?? instance.vrrpInterface) else { continue }
            for _ in 0..<2 {
                do { try announce(vip.address, on: info) } catch { failed(error) }
            }
        }
    }
}

/// bind(2) with any sockaddr type.
func bindAddress<Address>(_ fd: Int32, _ address: Address) -> Bool {
    withUnsafeBytes(of: address) { bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) == 0 }
}

/// sendto(2) with any sockaddr type; the byte count sent, or -1.
func sendDatagram<Address>(_ fd: Int32, _ bytes: [UInt8], to address: Address) -> Int {
    withUnsafeBytes(of: address) { raw in
        bytes.withUnsafeBytes { data in
            sendto(fd, data.baseAddress, data.count, 0, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
    }
}

extension sockaddr_in {
    static func make(_ address: VRRPAddress) -> sockaddr_in {
        var s = sockaddr_in()
        s.sin_family = sa_family_t(AF_INET)
        withUnsafeMutableBytes(of: &s.sin_addr) { $0.copyBytes(from: address.bytes) }
        return s
    }
}

extension sockaddr_in6 {
    static func make(_ address: VRRPAddress, scope: Int32) -> sockaddr_in6 {
        var s = sockaddr_in6()
        s.sin6_family = sa_family_t(AF_INET6)
        withUnsafeMutableBytes(of: &s.sin6_addr) { $0.copyBytes(from: address.bytes) }
        s.sin6_scope_id = UInt32(scope)
        return s
    }
}

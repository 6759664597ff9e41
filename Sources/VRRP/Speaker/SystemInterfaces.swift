import CLinuxShims
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, with the errno it returned.
public struct VRRPSystemError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var errno: Errno
    public init(_ operation: String, _ errno: Errno) {
        self.operation = operation
        self.errno = errno
    }
    static func last(_ operation: String) -> VRRPSystemError { VRRPSystemError(operation, Errno(rawValue: Glibc.errno)) }
    public var description: String { "\(operation): \(errno)" }
}

/// What the speaker needs to know about a network interface.
public struct InterfaceInfo: Sendable, Hashable {
    public var name: String
    public var index: Int32
    public var mac: [UInt8]
    public var isUp: Bool
    /// Up with carrier (IFF_RUNNING).
    public var isRunning: Bool
    /// In the kernel's order: the primary address comes first.
    public var ipv4: [VRRPAddress]
    public var ipv6LinkLocal: [VRRPAddress]

    /// Every interface, by name, from getifaddrs(3).
    public static func all() throws -> [String: InterfaceInfo] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { throw VRRPSystemError.last("getifaddrs") }
        defer { freeifaddrs(list) }
        var out: [String: InterfaceInfo] = [:]
        var p = list
        while let entry = p {
            p = entry.pointee.ifa_next
            let name = String(cString: entry.pointee.ifa_name)
            let flags = entry.pointee.ifa_flags
            var info = out[name] ?? InterfaceInfo(name: name, index: Int32(bitPattern: if_nametoindex(name)), mac: [],
                                                   isUp: false, isRunning: false, ipv4: [], ipv6LinkLocal: [])
            info.isUp = flags & UInt32(IFF_UP) != 0
            info.isRunning = flags & UInt32(IFF_RUNNING) != 0
            if let address = entry.pointee.ifa_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        withUnsafeBytes(of: sin.pointee.sin_addr) { info.ipv4.append(VRRPAddress(bytes: $0)!) }
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        withUnsafeBytes(of: sin6.pointee.sin6_addr) { raw in
                            if raw[0] == 0xFE && raw[1] & 0xC0 == 0x80 { info.ipv6LinkLocal.append(VRRPAddress(bytes: raw)!) }
                        }
                    }
                case AF_PACKET:
                    address.withMemoryRebound(to: sockaddr_ll.self, capacity: 1) { ll in
                        let length = Int(ll.pointee.sll_halen)
                        withUnsafeBytes(of: ll.pointee.sll_addr) { info.mac = Array($0.prefix(min(length, 8))) }
                    }
                default: break
                }
            }
            out[name] = info
        }
        return out
    }

    public static func named(_ name: String) throws -> InterfaceInfo {
        guard let info = try all()[name], info.index > 0 else { throw VRRPSystemError("interface \(name)", .operationNotSupportedByDevice) }
        return info
    }
}

/// Adds and removes interface addresses over rtnetlink: the VIPs.
public struct AddressControl: ~Copyable, @unchecked Sendable {  // one owner; the socket is not shared
    private let fd: Int32
    private var sequence: UInt32 = 1

    public init() throws {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw VRRPSystemError.last("socket(AF_NETLINK)") }
    }

    deinit { close(fd) }

    /// Adds `address/prefixLength` to the interface. IPv6 addresses skip duplicate address
    /// detection, as a VIP that moves must be usable at once. False if it was already there.
    @discardableResult
    public mutating func add(_ address: VRRPAddress, prefixLength: UInt8, interfaceIndex: Int32, label: String? = nil) throws -> Bool {
        do {
            try request(UInt16(RTM_NEWADDR), flags: Int32(NLM_F_CREATE | NLM_F_EXCL), address, prefixLength, interfaceIndex, label)
            return true
        } catch let error as VRRPSystemError where error.errno == .fileExists {
            return false
        }
    }

    /// Removes the address. False if it was not there.
    @discardableResult
    public mutating func remove(_ address: VRRPAddress, prefixLength: UInt8, interfaceIndex: Int32) throws -> Bool {
        do {
            try request(UInt16(RTM_DELADDR), flags: 0, address, prefixLength, interfaceIndex, nil)
            return true
        } catch let error as VRRPSystemError where error.errno == .addressNotAvailable || error.errno == .operationNotSupportedByDevice {
            return false
        }
    }

    private mutating func request(_ type: UInt16, flags: Int32, _ address: VRRPAddress, _ prefixLength: UInt8,
                                  _ index: Int32, _ label: String?) throws {
        sequence &+= 1
        let message = RouteNetlinkMessage.address(type: type, flags: UInt16(flags | NLM_F_REQUEST | NLM_F_ACK), sequence: sequence,
                                                  address: address, prefixLength: prefixLength, interfaceIndex: index, label: label)
        let what = "\(type == UInt16(RTM_NEWADDR) ? "add" : "remove") address \(address)/\(prefixLength)"
        guard message.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == message.count else {
            throw VRRPSystemError.last(what)
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n >= 0 else {
                if Glibc.errno == EINTR { continue }
                throw VRRPSystemError.last(what)
            }
            switch RouteNetlinkMessage.acknowledgement(buffer[0..<n], sequence: sequence) {
            case .none: continue
            case .some(0): return
            case .some(let code): throw VRRPSystemError(what, Errno(rawValue: -code))
            }
        }
    }
}

/// rtnetlink messages as bytes (pure, so they can be tested without a socket).
enum RouteNetlinkMessage {
    static func address(type: UInt16, flags: UInt16, sequence: UInt32, address: VRRPAddress, prefixLength: UInt8,
                        interfaceIndex: Int32, label: String?) -> [UInt8] {
        var body: [UInt8] = [address.isIPv6 ? UInt8(AF_INET6) : UInt8(AF_INET), prefixLength,
                             address.isIPv6 ? UInt8(IFA_F_NODAD) : 0, 0 /* RT_SCOPE_UNIVERSE */]
        body += hostOrder(UInt32(bitPattern: interfaceIndex))
        func attribute(_ type: UInt16, _ payload: [UInt8]) {
            let length = 4 + payload.count
            body += hostOrder(UInt16(length)) + hostOrder(type) + payload
            body += [UInt8](repeating: 0, count: (4 - length % 4) % 4)
        }
        attribute(UInt16(IFA_LOCAL), address.bytes)
        attribute(UInt16(IFA_ADDRESS), address.bytes)
        if let label, !address.isIPv6 { attribute(UInt16(IFA_LABEL), Array(label.utf8.prefix(15)) + [0]) }
        let total = 16 + body.count
        return hostOrder(UInt32(total)) + hostOrder(type) + hostOrder(flags) + hostOrder(sequence)
            + hostOrder(UInt32(0)) + body
    }

    /// The error code of the NLMSG_ERROR acknowledging `sequence` (0 for success), or nil.
    static func acknowledgement(_ reply: ArraySlice<UInt8>, sequence: UInt32) -> Int32? {
        var offset = reply.startIndex
        while offset + 16 <= reply.endIndex {
            let length = Int(readHost32(reply, offset))
            guard length >= 16, offset + length <= reply.endIndex else { return nil }
            let type = UInt16(truncatingIfNeeded: readHost32(reply, offset + 4))
            let seq = readHost32(reply, offset + 8)
            if type == UInt16(NLMSG_ERROR), seq == sequence, length >= 20 {
                return Int32(bitPattern: readHost32(reply, offset + 16))
            }
            offset += (length + 3) & ~3
        }
        return nil
    }

    private static func readHost32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 {
        var v: UInt32 = 0
        withUnsafeMutableBytes(of: &v) { for k in 0..<4 { $0[k] = b[i + k] } }
        return v
    }

    private static func hostOrder<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }
}

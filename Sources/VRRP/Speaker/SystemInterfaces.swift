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

/// The rtnetlink requests the speaker makes: VIPs added and removed, and the macvlan
/// interfaces of `use_vmac` created, configured and deleted.
public struct LinkControl: ~Copyable, @unchecked Sendable {  // one owner; the socket is not shared
    private let fd: Int32
    private var sequence: UInt32 = 1

    public init() throws {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw VRRPSystemError.last("socket(AF_NETLINK)") }
    }

    deinit { close(fd) }

    /// Adds `address/prefixLength` to the interface. IPv6 addresses skip duplicate address
    /// detection, as a VIP that moves must be usable at once. A deprecated address is not chosen
    /// as a source for new connections. False if it was already there.
    @discardableResult
    public mutating func add(_ address: VRRPAddress, prefixLength: UInt8, interfaceIndex: Int32, label: String? = nil,
                             deprecated: Bool = false) throws -> Bool {
        do {
            try request("add address \(address)/\(prefixLength)") {
                RouteNetlinkMessage.address(type: UInt16(RTM_NEWADDR), flags: UInt16(NLM_F_CREATE | NLM_F_EXCL) | $0, sequence: $1,
                                            address: address, prefixLength: prefixLength, interfaceIndex: interfaceIndex,
                                            label: label, deprecated: deprecated)
            }
            return true
        } catch let error as VRRPSystemError where error.errno == .fileExists {
            return false
        }
    }

    /// Removes the address. False if it was not there.
    @discardableResult
    public mutating func remove(_ address: VRRPAddress, prefixLength: UInt8, interfaceIndex: Int32) throws -> Bool {
        do {
            try request("remove address \(address)/\(prefixLength)") {
                RouteNetlinkMessage.address(type: UInt16(RTM_DELADDR), flags: $0, sequence: $1, address: address,
                                            prefixLength: prefixLength, interfaceIndex: interfaceIndex, label: nil)
            }
            return true
        } catch let error as VRRPSystemError where error.errno == .addressNotAvailable || error.errno == .operationNotSupportedByDevice {
            return false
        }
    }

    /// Creates the macvlan `vmac` on `parentIndex` in private mode, without IPv6 address
    /// generation, down.
    public mutating func createVirtualMAC(_ vmac: VRRPVirtualMAC, parentIndex: Int32) throws {
        try request("create \(vmac.interfaceName) (macvlan, \(vmac.addressText))") {
            RouteNetlinkMessage.createMacvlan(name: vmac.interfaceName, parentIndex: parentIndex, mac: vmac.address, flags: $0, sequence: $1)
        }
    }

    /// Stops the kernel from generating IPv6 addresses on the interface (IN6_ADDR_GEN_MODE_NONE).
    public mutating func disableAddressGeneration(interfaceIndex: Int32, name: String) throws {
        try request("set addrgenmode none on \(name)") {
            RouteNetlinkMessage.addressGenerationNone(interfaceIndex: interfaceIndex, flags: $0, sequence: $1)
        }
    }

    public mutating func setUp(interfaceIndex: Int32, name: String) throws {
        try request("set \(name) up") { RouteNetlinkMessage.linkUp(interfaceIndex: interfaceIndex, flags: $0, sequence: $1) }
    }

    public mutating func deleteLink(interfaceIndex: Int32, name: String) throws {
        try request("delete \(name)") { RouteNetlinkMessage.deleteLink(interfaceIndex: interfaceIndex, flags: $0, sequence: $1) }
    }

    /// Sends the message `make(flags, sequence)` builds and waits for its acknowledgement.
    private mutating func request(_ what: String, _ make: (_ flags: UInt16, _ sequence: UInt32) -> [UInt8]) throws {
        sequence &+= 1
        let message = make(UInt16(NLM_F_REQUEST | NLM_F_ACK), sequence)
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
                        interfaceIndex: Int32, label: String?, deprecated: Bool = false) -> [UInt8] {
        var body: [UInt8] = [address.isIPv6 ? UInt8(AF_INET6) : UInt8(AF_INET), prefixLength,
                             address.isIPv6 ? UInt8(IFA_F_NODAD) : 0, 0 /* RT_SCOPE_UNIVERSE; IPv6 derives the scope */]
        body += hostOrder(UInt32(bitPattern: interfaceIndex))
        attribute(&body, UInt16(IFA_LOCAL), address.bytes)
        attribute(&body, UInt16(IFA_ADDRESS), address.bytes)
        if let label, !address.isIPv6 { attribute(&body, UInt16(IFA_LABEL), Array(label.utf8.prefix(15)) + [0]) }
        if deprecated {
            // struct ifa_cacheinfo: preferred 0 s, valid forever.
            attribute(&body, UInt16(IFA_CACHEINFO), hostOrder(UInt32(0)) + hostOrder(UInt32.max) + hostOrder(UInt64(0)))
        }
        return message(type: type, flags: flags, sequence: sequence, body: body)
    }

    // Link attributes (linux/if_link.h), which Glibc does not export.
    static let linkAddress: UInt16 = 1, linkName: UInt16 = 3, linkParent: UInt16 = 5, linkInfo: UInt16 = 18, linkAFSpec: UInt16 = 26
    static let infoKind: UInt16 = 1, infoData: UInt16 = 2, macvlanMode: UInt16 = 1, macvlanModePrivate: UInt32 = 1
    static let inet6AddressGenerationMode: UInt16 = 8, addressGenerationNone: UInt8 = 1

    static func createMacvlan(name: String, parentIndex: Int32, mac: [UInt8], flags: UInt16, sequence: UInt32) -> [UInt8] {
        var body = interfaceInfo(index: 0)
        attribute(&body, linkName, Array(name.utf8) + [0])
        attribute(&body, linkParent, hostOrder(UInt32(bitPattern: parentIndex)))
        attribute(&body, linkAddress, mac)
        var data: [UInt8] = []
        attribute(&data, macvlanMode, hostOrder(macvlanModePrivate))
        var info: [UInt8] = []
        attribute(&info, infoKind, Array("macvlan".utf8) + [0])
        attribute(&info, infoData, data)
        attribute(&body, linkInfo, info)
        return message(type: UInt16(RTM_NEWLINK), flags: flags | UInt16(NLM_F_CREATE | NLM_F_EXCL), sequence: sequence, body: body)
    }

    static func addressGenerationNone(interfaceIndex: Int32, flags: UInt16, sequence: UInt32) -> [UInt8] {
        var body = interfaceInfo(index: interfaceIndex)
        var inet6: [UInt8] = []
        attribute(&inet6, inet6AddressGenerationMode, [addressGenerationNone])
        var spec: [UInt8] = []
        attribute(&spec, UInt16(AF_INET6), inet6)
        attribute(&body, linkAFSpec, spec)
        return message(type: UInt16(RTM_NEWLINK), flags: flags, sequence: sequence, body: body)
    }

    static func linkUp(interfaceIndex: Int32, flags: UInt16, sequence: UInt32) -> [UInt8] {
        message(type: UInt16(RTM_NEWLINK), flags: flags, sequence: sequence,
                body: interfaceInfo(index: interfaceIndex, flags: UInt32(IFF_UP), change: UInt32(IFF_UP)))
    }

    static func deleteLink(interfaceIndex: Int32, flags: UInt16, sequence: UInt32) -> [UInt8] {
        message(type: UInt16(RTM_DELLINK), flags: flags, sequence: sequence, body: interfaceInfo(index: interfaceIndex))
    }

    /// struct ifinfomsg: AF_UNSPEC, any type.
    private static func interfaceInfo(index: Int32, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
        [UInt8(AF_UNSPEC), 0] + hostOrder(UInt16(0)) + hostOrder(UInt32(bitPattern: index)) + hostOrder(flags) + hostOrder(change)
    }

    private static func attribute(_ body: inout [UInt8], _ type: UInt16, _ payload: [UInt8]) {
        let length = 4 + payload.count
        body += hostOrder(UInt16(length)) + hostOrder(type) + payload
        body += [UInt8](repeating: 0, count: (4 - length % 4) % 4)
    }

    private static func message(type: UInt16, flags: UInt16, sequence: UInt32, body: [UInt8]) -> [UInt8] {
        hostOrder(UInt32(16 + body.count)) + hostOrder(type) + hostOrder(flags) + hostOrder(sequence) + hostOrder(UInt32(0)) + body
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

/// One integer under /proc/sys.
enum SysctlFile {
    static func read(_ path: String) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return Int(String(decoding: bytes[0..<n], as: UTF8.self).filter { !$0.isWhitespace })
    }

    static func write(_ path: String, _ value: Int) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let text = Array("\(value)\n".utf8)
        return text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == text.count
    }
}

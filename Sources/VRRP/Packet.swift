#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as VRRP carries it: 4 or 16 bytes in network order.
public struct VRRPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = Array(bytes)
    }

    /// The dotted or colon form, as inet_pton(3) accepts it; nil for anything else.
    public init?(parsing text: String) {
        guard text.utf8.count < 64 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 16)
        if text.contains(":") {
            guard inet_pton(AF_INET6, text, &buffer) == 1 else { return nil }
            self.bytes = buffer
        } else {
            guard inet_pton(AF_INET, text, &buffer) == 1 else { return nil }
            self.bytes = Array(buffer.prefix(4))
        }
    }

    public var isIPv6: Bool { bytes.count == 16 }

    /// Dotted quad, or the full IPv6 form with `::` for the longest zero run (RFC 5952).
    public var description: String {
        if !isIPv6 { return bytes.map(String.init).joined(separator: ".") }
        let words = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (i, w) in words.enumerated() {
            if w == 0 { run = run.start < 0 ? (i, 1) : (run.start, run.length + 1) } else { run = (-1, 0) }
            if run.length > best.length && run.length >= 2 { best = run }
        }
        var parts: [String] = []
        var i = 0
        while i < 8 {
            if i == best.start { parts.append(i == 0 ? ":" : ""); i += best.length; if i == 8 { parts.append("") }; continue }
            parts.append(String(words[i], radix: 16))
            i += 1
        }
        return parts.joined(separator: ":")
    }

    public static func < (a: VRRPAddress, b: VRRPAddress) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}

/// A VRRP advertisement (RFC 3768 for v2, RFC 5798/9568 for v3).
public struct VRRPAdvertisement: Sendable, Hashable {
    public var version: VRRPVersion
    public var virtualRouterID: UInt8
    public var priority: UInt8
    /// v3: centiseconds (12 bits); v2: whole seconds.
    public var advertisementInterval: Microseconds
    public var addresses: [VRRPAddress]
    /// v2 only: authentication type (0 none, 1 simple text, 2 IP AH) and its 8 data bytes.
    public var authenticationType: UInt8
    public var authenticationData: [UInt8]

    public init(version: VRRPVersion = .v3, virtualRouterID: UInt8, priority: UInt8,
                advertisementInterval: Microseconds, addresses: [VRRPAddress],
                authenticationType: UInt8 = 0, authenticationData: [UInt8] = []) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.advertisementInterval = advertisementInterval
        self.addresses = addresses
        self.authenticationType = authenticationType
        self.authenticationData = authenticationData
    }
}

/// Why a received packet was discarded: the rules of RFC 5798 §7.1 and RFC 3768 §7.1.
public enum VRRPDiscard: String, Sendable, Hashable, CaseIterable, Error, CustomStringConvertible {
    case ttlNot255 = "TTL or hop limit is not 255"
    case badVersion = "unsupported version"
    case badType = "not an advertisement"
    case tooShort = "shorter than its header and addresses"
    case badChecksum = "bad checksum"
    case unknownVirtualRouter = "virtual router ID not configured"
    case noAddresses = "address count is 0"
    case zeroInterval = "advertisement interval is 0"
    case addressFamilyMismatch = "addresses of the wrong family"
    case authenticationMismatch = "v2 authentication type or data does not match"
    case intervalMismatch = "v2 advertisement interval does not match"

    public var description: String { rawValue }
}

/// Encoding and decoding. Decoding never traps: every input gives a packet or a ``VRRPDiscard``.
public enum VRRPCodec {
    public static let ipProtocol: UInt8 = 112

    /// How a v3 checksum over IPv4 is computed: RFC 5798 includes the pseudo-header; some older
    /// implementations leave it out.
    public enum IPv4PseudoHeader: Sendable, Hashable {
        case included, omitted
    }

    /// The VRRP message (the IP payload). `source` and `destination` feed the v3 pseudo-header.
    public static func encode(_ ad: VRRPAdvertisement, source: VRRPAddress, destination: VRRPAddress,
                              ipv4PseudoHeader: IPv4PseudoHeader = .included) -> [UInt8] {
        var out: [UInt8] = []
        out.append(UInt8(ad.version.rawValue) << 4 | 1)
        out.append(ad.virtualRouterID)
        out.append(ad.priority)
        out.append(UInt8(truncatingIfNeeded: ad.addresses.count))
        switch ad.version {
        case .v3:
            let cs = UInt16(truncatingIfNeeded: min(ad.advertisementInterval.value / 10_000, 0xFFF))
            out.append(UInt8(cs >> 8) & 0x0F)
            out.append(UInt8(truncatingIfNeeded: cs))
        case .v2:
            out.append(ad.authenticationType)
            out.append(UInt8(truncatingIfNeeded: min(ad.advertisementInterval.value / 1_000_000, 255)))
        }
        out += [0, 0]
        for address in ad.addresses { out += address.bytes }
        if ad.version == .v2 {
            out += ad.authenticationData.prefix(8) + [UInt8](repeating: 0, count: max(0, 8 - ad.authenticationData.count))
        }
        let sum = out.withUnsafeBytes {
            checksum($0, pseudoHeaderSum: pseudoHeaderSum(version: ad.version, source: source, destination: destination,
                                                          length: out.count, ipv4: ipv4PseudoHeader))
        }
        out[6] = UInt8(sum >> 8)
        out[7] = UInt8(truncatingIfNeeded: sum)
        return out
    }

    /// Decodes and checks one received message against the rules that need no configuration.
    /// - Parameters:
    ///   - ttl: the IPv4 TTL or IPv6 hop limit the packet arrived with.
    ///   - source, destination: from the IP header, for the checksum.
    public static func decode(_ message: some Collection<UInt8>, ttl: UInt8, source: VRRPAddress,
                              destination: VRRPAddress) -> Result<VRRPAdvertisement, VRRPDiscard> {
        if let result = message.withContiguousStorageIfAvailable({
            decode(UnsafeRawBufferPointer($0), ttl: ttl, source: source, destination: destination)
        }) {
            return result
        }
        return Array(message).withUnsafeBytes { decode($0, ttl: ttl, source: source, destination: destination) }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, ttl: UInt8, source: VRRPAddress,
                               destination: VRRPAddress) -> Result<VRRPAdvertisement, VRRPDiscard> {
        guard ttl == 255 else { return .failure(.ttlNot255) }
        guard bytes.count >= 8 else { return .failure(.tooShort) }
        guard let version = VRRPVersion(rawValue: Int(bytes[0] >> 4)) else { return .failure(.badVersion) }
        guard bytes[0] & 0x0F == 1 else { return .failure(.badType) }
        if version == .v2 && source.isIPv6 { return .failure(.badVersion) }
        let count = Int(bytes[3])
        let size = source.isIPv6 ? 16 : 4
        let needed = 8 + count * size + (version == .v2 ? 8 : 0)
        guard bytes.count >= needed else { return .failure(.tooShort) }
        func valid(_ form: IPv4PseudoHeader) -> Bool {
            checksum(bytes, pseudoHeaderSum: pseudoHeaderSum(version: version, source: source, destination: destination,
                                                             length: bytes.count, ipv4: form)) == 0
        }
        // v3 over IPv4 is accepted with and without the pseudo-header, as RFC 9568 allows.
        guard valid(.included) || (version == .v3 && !source.isIPv6 && valid(.omitted)) else { return .failure(.badChecksum) }
        guard count > 0 else { return .failure(.noAddresses) }
        let interval: Microseconds
        if version == .v3 {
            interval = .centiseconds(Int64(UInt16(bytes[4] & 0x0F) << 8 | UInt16(bytes[5])))
        } else {
            interval = .seconds(Int64(bytes[5]))
        }
        guard interval.value > 0 else { return .failure(.zeroInterval) }
        var addresses: [VRRPAddress] = []
        addresses.reserveCapacity(count)
        for i in 0..<count {
            addresses.append(VRRPAddress(bytes: bytes[(8 + i * size)..<(8 + (i + 1) * size)])!)
        }
        let auth = version == .v2 ? Array(bytes[(8 + count * 4)..<(16 + count * 4)]) : []
        return .success(VRRPAdvertisement(version: version, virtualRouterID: bytes[1], priority: bytes[2],
                                          advertisementInterval: interval, addresses: addresses,
                                          authenticationType: version == .v2 ? bytes[4] : 0, authenticationData: auth))
    }

    /// The sum of the pseudo-header's 16-bit words (0 for v2, and for v3 over IPv4 without one).
    static func pseudoHeaderSum(version: VRRPVersion, source: VRRPAddress, destination: VRRPAddress,
                                length: Int, ipv4: IPv4PseudoHeader) -> UInt32 {
        if version == .v2 || (!source.isIPv6 && ipv4 == .omitted) { return 0 }
        var sum: UInt32 = 0
        func add(_ address: VRRPAddress) {
            var i = 0
            while i < address.bytes.count { sum &+= UInt32(address.bytes[i]) << 8 | UInt32(address.bytes[i + 1]); i += 2 }
        }
        add(source)
        add(destination)
        // IPv6: 32-bit length, 3 zero bytes, next header. IPv4: zero byte, protocol, 16-bit length.
        return sum &+ UInt32(length >> 16 & 0xFFFF) &+ UInt32(length & 0xFFFF) &+ UInt32(ipProtocol)
    }

    /// The Internet checksum (RFC 1071) of pseudo-header and message; 0 when a filled-in checksum is valid.
    static func checksum(_ message: UnsafeRawBufferPointer, pseudoHeaderSum: UInt32) -> UInt16 {
        var sum = pseudoHeaderSum
        var i = 0
        while i + 1 < message.count { sum &+= UInt32(message[i]) << 8 | UInt32(message[i + 1]); i += 2 }
        if i < message.count { sum &+= UInt32(message[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

/// Per-reason counts of discarded packets, as an operator reads them in `labctl vrrp status`.
public struct VRRPDiscardCounters: Sendable, Hashable {
    public private(set) var counts: [VRRPDiscard: UInt64] = [:]
    public init() {}
    public mutating func record(_ reason: VRRPDiscard) { counts[reason, default: 0] += 1 }
    public subscript(reason: VRRPDiscard) -> UInt64 { counts[reason] ?? 0 }
}

/// The checks that need the instance's configuration (RFC 5798 §7.1, RFC 3768 §7.1).
public struct VRRPReceiveFilter: Sendable, Hashable {
    public var version: VRRPVersion
    public var virtualRouterID: UInt8
    public var isIPv6: Bool
    /// v2 only: the configured authentication and interval, which must match.
    public var authenticationType: UInt8
    public var authenticationData: [UInt8]
    public var advertisementInterval: Microseconds
    public var counters = VRRPDiscardCounters()

    public init(version: VRRPVersion, virtualRouterID: UInt8, isIPv6: Bool, advertisementInterval: Microseconds,
                authenticationType: UInt8 = 0, authenticationData: [UInt8] = []) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.isIPv6 = isIPv6
        self.advertisementInterval = advertisementInterval
        self.authenticationType = authenticationType
        self.authenticationData = authenticationData
    }

    /// Decodes and checks a packet, counting it if it is discarded.
    public mutating func accept(_ message: some Collection<UInt8>, ttl: UInt8, source: VRRPAddress,
                                destination: VRRPAddress) -> VRRPAdvertisement? {
        let result = VRRPCodec.decode(message, ttl: ttl, source: source, destination: destination).flatMap { ad -> Result<VRRPAdvertisement, VRRPDiscard> in
            if ad.version != version { return .failure(.badVersion) }
            if ad.virtualRouterID != virtualRouterID { return .failure(.unknownVirtualRouter) }
            if ad.addresses.contains(where: { $0.isIPv6 != isIPv6 }) || source.isIPv6 != isIPv6 { return .failure(.addressFamilyMismatch) }
            if version == .v2 {
                let padded = authenticationData.prefix(8) + [UInt8](repeating: 0, count: max(0, 8 - authenticationData.count))
                if ad.authenticationType != authenticationType || (authenticationType == 1 && ad.authenticationData != Array(padded)) {
                    return .failure(.authenticationMismatch)
                }
                if ad.advertisementInterval != advertisementInterval { return .failure(.intervalMismatch) }
            }
            return .success(ad)
        }
        switch result {
        case .success(let ad): return ad
        case .failure(let reason):
            counters.record(reason)
            return nil
        }
    }
}

extension VRRPCodec {
    /// The parts of an IPv4 or IPv6 packet VRRP needs: addresses, TTL/hop limit and the VRRP
    /// message. Nil when it is not an IP packet carrying protocol 112 (IPv6 extension headers are
    /// not followed).
    public static func splitIPPacket(_ packet: some Collection<UInt8>) -> (source: VRRPAddress, destination: VRRPAddress, ttl: UInt8, message: [UInt8])? {
        Array(packet).withUnsafeBytes { p in
            ipHeader(p).map { ($0.source, $0.destination, $0.ttl, Array(p[$0.message])) }
        }
    }

    /// `splitIPPacket` without copying: the message is a range of `p`.
    static func ipHeader(_ p: UnsafeRawBufferPointer) -> (source: VRRPAddress, destination: VRRPAddress, ttl: UInt8, message: Range<Int>)? {
        guard let first = p.first else { return nil }
        switch first >> 4 {
        case 4:
            let headerLength = Int(first & 0x0F) * 4
            guard headerLength >= 20, p.count >= headerLength, p[9] == ipProtocol else { return nil }
            let total = min(p.count, Int(p[2]) << 8 | Int(p[3]))
            guard total >= headerLength else { return nil }
            return (VRRPAddress(bytes: p[12..<16])!, VRRPAddress(bytes: p[16..<20])!, p[8], headerLength..<total)
        case 6:
            guard p.count >= 40, p[6] == ipProtocol else { return nil }
            let total = min(p.count, 40 + (Int(p[4]) << 8 | Int(p[5])))
            return (VRRPAddress(bytes: p[8..<24])!, VRRPAddress(bytes: p[24..<40])!, p[7], 40..<total)
        default:
            return nil
        }
    }
}

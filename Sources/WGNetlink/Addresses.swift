#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address, stored as 16 bytes in network order (IPv4 in the first four).
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    public enum Family: Sendable, Hashable, Comparable {
        case v4, v6
        /// AF_INET or AF_INET6.
        public var addressFamily: UInt16 { self == .v4 ? UInt16(AF_INET) : UInt16(AF_INET6) }
        public var bitCount: Int { self == .v4 ? 32 : 128 }
        public var byteCount: Int { self == .v4 ? 4 : 16 }
    }

    public let family: Family
    let high: UInt64
    let low: UInt64

    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        if let address = bytes.withContiguousStorageIfAvailable({ IPAddress(bytes: UnsafeRawBufferPointer($0)) }) {
            self = address!
            return
        }
        family = bytes.count == 4 ? .v4 : .v6
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h |= UInt64(b) << (56 - 8 * i) } else { l |= UInt64(b) << (56 - 8 * (i - 8)) }
        }
        high = h
        low = l
    }

    /// 4 or 16 bytes in network order, read in place (no per-byte loop).
    public init?(bytes raw: UnsafeRawBufferPointer) {
        switch raw.count {
        case 4:
            family = .v4
            high = UInt64(UInt32(bigEndian: raw.loadUnaligned(as: UInt32.self))) << 32
            low = 0
        case 16:
            family = .v6
            high = UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self))
            low = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        default:
            return nil
        }
    }

    /// The dotted or colon form, as inet_pton(3) accepts it. No hostnames.
    public init?(_ text: String) {
        var text = text
        guard let address = text.withUTF8({ IPAddress(utf8: $0) }) else { return nil }
        self = address
    }

    /// The same from UTF-8 bytes in place. IPv4 is read here by inet_pton's rules (four
    /// decimal parts up to 255, no leading zeros); IPv6 goes to inet_pton.
    init?(utf8 text: UnsafeBufferPointer<UInt8>) {
        guard !text.contains(0x3A) else {
            // inet_pton needs a C string: the longest IPv6 text is 45 characters.
            guard text.count < 64, !text.contains(0) else { return nil }
            var raw: (UInt64, UInt64) = (0, 0)
            let parsed = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { cString in
                for (i, byte) in text.enumerated() { cString[i] = CChar(bitPattern: byte) }
                cString[text.count] = 0
                return withUnsafeMutableBytes(of: &raw) { inet_pton(AF_INET6, cString.baseAddress, $0.baseAddress) == 1 }
            }
            guard parsed else { return nil }
            self.init(family: .v6, high: UInt64(bigEndian: raw.0), low: UInt64(bigEndian: raw.1))
            return
        }
        var value: UInt32 = 0, part: UInt32 = 0, parts = 0, inPart = false
        for c in text {
            if c >= 0x30 && c <= 0x39 {
                if inPart && part == 0 { return nil }  // a leading zero
                part = part * 10 + UInt32(c - 0x30)
                guard part <= 255 else { return nil }
                if !inPart { parts += 1; inPart = true }
                guard parts <= 4 else { return nil }
            } else if c == 0x2E && inPart && parts < 4 {
                value = value << 8 | part
                part = 0
                inPart = false
            } else {
                return nil
            }
        }
        guard parts == 4 && inPart else { return nil }
        self.init(family: .v4, high: UInt64(value << 8 | part) << 32, low: 0)
    }

    public var bytes: [UInt8] {
        (0..<family.byteCount).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high >> (56 - 8 * i) : low >> (56 - 8 * (i - 8)))) }
    }

    /// The 4 or 16 bytes in network order, lent without building an array.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let words = (high.bigEndian, low.bigEndian)
        return try Swift.withUnsafeBytes(of: words) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(family.byteCount))) }
    }

    /// inet_ntop(3)'s form, which is what `wg` prints.
    public var description: String {
        var out: [UInt8] = []
        appendDescription(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends inet_ntop(3)'s form without building a String (for dumps of many addresses).
    /// IPv6 follows glibc: the first longest run of two or more zero groups becomes `::`,
    /// and `::a.b.c.d` and `::ffff:a.b.c.d` keep the IPv4 part dotted.
    func appendDescription(to out: inout [UInt8]) {
        if family == .v4 {
            Self.appendDotted(UInt32(truncatingIfNeeded: high >> 32), to: &out)
            return
        }
        func group(_ i: Int) -> UInt16 { UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> (48 - 16 * (i & 3))) }
        var bestStart = -1, bestLength = 0, runStart = -1, runLength = 0
        for i in 0..<8 {
            if group(i) == 0 {
                if runStart < 0 { runStart = i; runLength = 1 } else { runLength += 1 }
                if runLength > bestLength { bestStart = runStart; bestLength = runLength }
            } else {
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var i = 0
        while i < 8 {
            if bestStart >= 0 && i >= bestStart && i < bestStart + bestLength {
                if i == bestStart { out.append(0x3A) }
                i += 1
                continue
            }
            if i != 0 { out.append(0x3A) }
            if i == 6 && bestStart == 0 && (bestLength == 6 || (bestLength == 5 && group(5) == 0xFFFF)) {
                Self.appendDotted(UInt32(truncatingIfNeeded: low), to: &out)
                return
            }
            Self.appendHex(group(i), to: &out)
            i += 1
        }
        if bestStart >= 0 && bestStart + bestLength == 8 { out.append(0x3A) }
    }

    private static func appendDotted(_ v4: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) {
            appendDecimal(UInt64(v4 >> UInt32(shift) & 0xFF), to: &out)
            if shift != 0 { out.append(0x2E) }
        }
    }

    private static func appendHex(_ value: UInt16, to out: inout [UInt8]) {
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = UInt8(truncatingIfNeeded: value >> UInt16(shift) & 0xF)
            if digit == 0 && !started && shift != 0 { continue }
            started = true
            out.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
    }

    /// The address with every bit after the first `prefixLength` cleared.
    public func masked(to prefixLength: Int) -> IPAddress {
        let bits = family.bitCount
        let keep = max(0, min(prefixLength, bits))
        // Bits are counted from the top of `high`; IPv4 lives in the top 32 bits.
        func mask(_ n: Int) -> UInt64 { n <= 0 ? 0 : n >= 64 ? ~0 : ~0 << (64 - n) }
        var copy = self
        copy = IPAddress(family: family, high: high & mask(keep), low: low & mask(keep - 64))
        return copy
    }

    init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.family, a.high, a.low) < (b.family, b.high, b.low)
    }

    /// fe80::/10.
    public var isLinkLocal: Bool { family == .v6 && high >> 54 == 0x3FA }
}

/// An address prefix a peer may send from: `10.0.0.0/24`, `fd00::/64`.
public struct AllowedIP: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    public let address: IPAddress
    public let prefixLength: UInt8

    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0 && prefixLength <= address.family.bitCount else { return nil }
        self.address = address
        self.prefixLength = UInt8(prefixLength)
    }

    /// `ADDRESS[/CIDR]`, as wg accepts it; without a CIDR the prefix is the whole address.
    public init?(_ text: String) {
        var text = text
        guard let ip = text.withUTF8({ AllowedIP(utf8: $0) }) else { return nil }
        self = ip
    }

    /// The same from UTF-8 bytes in place.
    init?(utf8 text: UnsafeBufferPointer<UInt8>) {
        let slash = text.firstIndex(of: 0x2F)
        guard let address = IPAddress(utf8: UnsafeBufferPointer(rebasing: text[..<(slash ?? text.endIndex)])) else { return nil }
        var length = address.family.bitCount
        if let slash {
            let digits = text[(slash + 1)...]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            length = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        self.init(address: address, prefixLength: length)
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// The prefix with host bits cleared, as the kernel stores it.
    public var canonical: AllowedIP { AllowedIP(address: address.masked(to: Int(prefixLength)), prefixLength: Int(prefixLength))! }

    public static func < (a: AllowedIP, b: AllowedIP) -> Bool {
        (a.address, a.prefixLength) < (b.address, b.prefixLength)
    }
}

/// A peer's UDP endpoint. The port is a host-order number here; the scope id names the
/// interface of an IPv6 link-local address (0 when none).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let port: UInt16
    public let scopeID: UInt32

    public init(address: IPAddress, port: UInt16, scopeID: UInt32 = 0) {
        self.address = address
        self.port = port
        self.scopeID = address.family == .v6 ? scopeID : 0
    }

    /// `1.2.3.4:51820`, `[2001:db8::1]:51820` or `[fe80::1%eth0]:51820`.
    /// `scopeIndex` turns an interface name into its index (if_nametoindex(3) in practice).
    public init?(_ text: String, scopeIndex: (String) -> UInt32? = { UInt32($0) }) {
        var text = text
        guard let endpoint = text.withUTF8({ Self.parse($0, scopeIndex: scopeIndex) }) else { return nil }
        self = endpoint
    }

    /// The parse on bytes: a config file of 50,000 peers has tens of thousands of endpoints.
    private static func parse(_ text: UnsafeBufferPointer<UInt8>, scopeIndex: (String) -> UInt32?) -> Endpoint? {
        guard let colon = text.lastIndex(of: 0x3A) else { return nil }
        let portDigits = text[(colon + 1)...]
        guard (1...5).contains(portDigits.count) else { return nil }
        var port = 0
        for c in portDigits {
            guard c >= 0x30, c <= 0x39 else { return nil }
            port = port * 10 + Int(c - 0x30)
        }
        guard port <= 65535 else { return nil }
        var host = text[..<colon]
        var scope: UInt32 = 0
        if host.first == 0x5B {  // [IPv6] or [IPv6%zone]
            guard host.count >= 2, host.last == 0x5D else { return nil }
            host = host.dropFirst().dropLast()
            if let percent = host.firstIndex(of: 0x25) {
                let name = String(decoding: host[(percent + 1)...], as: UTF8.self)
                guard !name.isEmpty, let index = scopeIndex(name) else { return nil }
                scope = index
                host = host[..<percent]
            }
            guard host.contains(0x3A) else { return nil }
        } else if host.contains(0x3A) {
            return nil
        }
        guard let address = IPAddress(utf8: UnsafeBufferPointer(rebasing: host)) else { return nil }
        return Endpoint(address: address, port: UInt16(port), scopeID: scope)
    }

    public var description: String { formatted() }

    /// ``formatted(scopeName:)`` appended to a byte buffer.
    func appendFormatted(to out: inout [UInt8], scopeName: (UInt32) -> String?) {
        if address.family == .v4 {
            address.appendDescription(to: &out)
        } else {
            out.append(0x5B)
            address.appendDescription(to: &out)
            if scopeID != 0 {
                out.append(0x25)
                if let name = scopeNameIfNamed(scopeName) { out.append(contentsOf: name.utf8) } else { appendDecimal(UInt64(scopeID), to: &out) }
            }
            out.append(0x5D)
        }
        out.append(0x3A)
        appendDecimal(UInt64(port), to: &out)
    }

    /// glibc names the interface only for link-local unicast and multicast; otherwise the number.
    private func scopeNameIfNamed(_ scopeName: (UInt32) -> String?) -> String? {
        address.isLinkLocal || address.high >> 48 & 0xFF0F == 0xFF02 ? scopeName(scopeID) : nil
    }

    /// wg's rendering (getnameinfo with NUMERICHOST): the scope as the interface's name when it has one.
    public func formatted(scopeName: (UInt32) -> String? = { String($0) }) -> String {
        var out: [UInt8] = []
        appendFormatted(to: &out, scopeName: scopeName)
        return String(decoding: out, as: UTF8.self)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A configuration error, pointing at the file, the line and the text at fault.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let text: String
    public let reason: String

    public init(file: String, line: Int, text: String, reason: String) {
        self.file = file
        self.line = line
        self.text = text
        self.reason = reason
    }

    public var description: String {
        text.isEmpty ? "\(file):\(line): \(reason)" : "\(file):\(line): \(reason): `\(text)`"
    }
}

/// A wg(8) configuration file, with wg-quick's extra `[Interface]` keys kept apart.
public struct ConfigFile: Sendable, Hashable {
    public struct Interface: Sendable, Hashable {
        public var privateKey: Key?
        public var listenPort: UInt16?
        /// 0 means `off`.
        public var firewallMark: UInt32?
        public var quick = QuickSettings()
        public init() {}
    }

    /// The keys only wg-quick reads.
    public struct QuickSettings: Sendable, Hashable {
        public var addresses: [AllowedIP] = []
        public var dns: [String] = []
        public var mtu: UInt32?
        public var table: String?
        public var preUp: [String] = []
        public var postUp: [String] = []
        public var preDown: [String] = []
        public var postDown: [String] = []
        public var saveConfig: Bool?
        public init() {}
        public var isEmpty: Bool { self == QuickSettings() }
    }

    public struct PeerSection: Sendable, Hashable {
        public var publicKey: Key
        public var presharedKey: Key?
        public var allowedIPs: [AllowedIP]
        /// `host:port` as written; resolved when applied.
        public var endpoint: String?
        /// 0 means `off`.
        public var persistentKeepalive: UInt16?
        /// The line of `[Peer]`, and of `Endpoint` (for errors when it does not resolve).
        public var line: Int
        public var endpointLine: Int?
    }

    public var interface = Interface()
    public var peers: [PeerSection] = []

    public init() {}

    /// How strict to be about wg-quick's keys.
    public enum Dialect: Sendable {
        /// `wg setconf`: wg-quick keys are errors.
        case wg
        /// wg-quick files: `Address`, `DNS`, `MTU`, `Table`, `Pre/PostUp/Down` and `SaveConfig` are accepted.
        case wgQuick
    }

    static let quickKeys: Set<String> = ["address", "dns", "mtu", "table", "preup", "postup", "predown", "postdown", "saveconfig"]

    /// Parses `text`. `file` names it in errors.
    public static func parse(_ text: String, file: String, dialect: Dialect = .wgQuick) throws(ConfigError) -> ConfigFile {
        var text = text
        return try text.withUTF8 { bytes in
            Result { () throws(ConfigError) in try parse(utf8: bytes, file: file, dialect: dialect) }
        }.get()
    }

    /// Parses a file's bytes as they were read, without making a String of the whole file first
    /// (for 50,000 peers that copy cost as much as a fifth of the parse). Invalid UTF-8 in a value
    /// is repaired as `String(decoding:as:)` does.
    public static func parse(utf8 all: UnsafeBufferPointer<UInt8>, file: String, dialect: Dialect = .wgQuick) throws(ConfigError) -> ConfigFile {
        var config = ConfigFile()
        enum Section { case none, interface, peer }
        var section = Section.none
        struct PendingPeer {
            var line: Int
            var publicKey: Key?, psk: Key?
            var ips: [AllowedIP] = []
            var endpoint: String?
            var keepalive: UInt16?
            var endpointLine: Int?
        }
        var peer: PendingPeer?
        func finishPeer() throws(ConfigError) {
            guard let p = peer.take() else { return }
            guard let key = p.publicKey else {
                throw ConfigError(file: file, line: p.line, text: "[Peer]", reason: "this peer has no PublicKey")
            }
            config.peers.append(PeerSection(publicKey: key, presharedKey: p.psk, allowedIPs: p.ips, endpoint: p.endpoint,
                                            persistentKeepalive: p.keepalive, line: p.line, endpointLine: p.endpointLine))
        }
        // Bytes, not Characters, and no allocation per line for the keys a big file repeats:
        // a file of 50,000 peers must parse about as fast as wg parses it.
        // Room for every peer at once: each "[Peer]" has a "[", and few other lines do.
        var brackets = 0
        var from = 0
        while from < all.count, let hit = memchr(all.baseAddress! + from, 0x5B, all.count - from) {
            brackets += 1
            from = UnsafeRawPointer(hit) - UnsafeRawPointer(all.baseAddress!) + 1
        }
        config.peers.reserveCapacity(brackets)
        // The current line without comment and whitespace, in storage reused from line to line.
        var scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 256)
        defer { scratch.deallocate() }
        var lineNumber = 0
        var lineStart = 0
        while lineStart <= all.count {
            var lineEnd = all.count
            if lineStart < all.count, let newline = memchr(all.baseAddress! + lineStart, 0x0A, all.count - lineStart) {
                lineEnd = UnsafeRawPointer(newline) - UnsafeRawPointer(all.baseAddress!)
            }
            let rawLine = all[lineStart..<lineEnd]
            lineStart = lineEnd + 1
            lineNumber += 1
            if scratch.count < rawLine.count {
                scratch.deallocate()
                scratch = .allocate(capacity: rawLine.count * 2)
            }
            // wg drops every whitespace character; wg-quick's commands keep their inner spaces.
            var uncommentedEnd = rawLine.endIndex
            if !rawLine.isEmpty, let hash = memchr(all.baseAddress! + rawLine.startIndex, 0x23, rawLine.count) {  // '#'
                uncommentedEnd = UnsafeRawPointer(hash) - UnsafeRawPointer(all.baseAddress!)
            }
            var compactCount = 0
            for i in rawLine.startIndex..<uncommentedEnd {
                let b = all[i]
                if b > 0x20 || !(b == 0x20 || (b >= 0x09 && b <= 0x0D)) {
                    scratch[compactCount] = b
                    compactCount &+= 1  // at most the line's length
                }
            }
            if compactCount == 0 { continue }
            let compactBytes = UnsafeBufferPointer(rebasing: scratch[..<compactCount])
            // Strings are made only for what is used: the key (lowercased ASCII) where it is
            // not one of the common ones, the value, and the original line when there is an error.
            func fail(_ reason: String) -> ConfigError {
                let original = String(decoding: rawLine.last == 0x0D ? rawLine.dropLast() : rawLine, as: UTF8.self)
                return ConfigError(file: file, line: lineNumber, text: original.trimmingWhitespace, reason: reason)
            }
            if compactBytes[0] == 0x5B {
                if asciiMatches(compactBytes, "[peer]", ignoringCase: true) {
                    try finishPeer(); section = .peer; peer = PendingPeer(line: lineNumber)
                } else if asciiMatches(compactBytes, "[interface]", ignoringCase: true) {
                    try finishPeer(); section = .interface
                } else {
                    throw fail("unknown section")
                }
                continue
            }
            guard let eq = compactBytes.firstIndex(of: 0x3D) else { throw fail("expected 'Key = Value'") }
            /// Whether the key is `literal` (lowercase) in any case.
            func keyIs(_ literal: StaticString) -> Bool { asciiMatches(compactBytes[..<eq], literal, ignoringCase: true) }
            var key: String { String(decoding: compactBytes[..<eq].map(asciiLowercased), as: UTF8.self) }
            var value: String { String(decoding: compactBytes[(eq + 1)...], as: UTF8.self) }
            func valueKey(secret: Bool) -> Key? {
                Key(base64UTF8: UnsafeBufferPointer(rebasing: compactBytes[(eq + 1)...]), secret: secret)
            }
            var keyText: String { String(decoding: compactBytes[..<eq], as: UTF8.self) }
            var spacedValue: String {
                let raw = rawLine.prefix { $0 != 0x23 }.drop { $0 != 0x3D }.dropFirst()
                return String(decoding: raw, as: UTF8.self).trimmingWhitespace
            }
            switch section {
            case .none:
                throw fail("'\(keyText)' outside any section")
            case .interface:
                if keyIs("privatekey") {
                    guard let k = valueKey(secret: true) else { throw fail("PrivateKey is not a base64 key") }
                    config.interface.privateKey = k
                } else if keyIs("listenport") {
                    guard let port = UInt16(value) else { throw fail("ListenPort must be 0 to 65535") }
                    config.interface.listenPort = port
                } else if keyIs("fwmark") {
                    guard let mark = Self.parseMark(value) else { throw fail("FwMark must be a 32-bit number or 'off'") }
                    config.interface.firewallMark = mark
                } else if quickKeys.contains(key) {
                    guard dialect == .wgQuick else {
                        throw fail("'\(keyText)' is a wg-quick key; run the file through 'labctl wg strip' first")
                    }
                    try Self.parseQuick(key: key, value: value, spaced: spacedValue, into: &config.interface.quick, fail: fail)
                } else {
                    throw fail("unknown key '\(keyText)' in [Interface]")
                }
            case .peer:
                if keyIs("publickey") {
                    guard let k = valueKey(secret: false) else { throw fail("PublicKey is not a base64 key") }
                    peer!.publicKey = k
                } else if keyIs("allowedips") {
                    var itemStart = eq + 1
                    guard itemStart < compactBytes.count else { continue }
                    while itemStart <= compactBytes.count {
                        let itemEnd = compactBytes[itemStart...].firstIndex(of: 0x2C) ?? compactBytes.count
                        let range = itemStart..<itemEnd
                        itemStart = itemEnd + 1
                        guard let ip = AllowedIP(utf8: UnsafeBufferPointer(rebasing: compactBytes[range])) else {
                            throw fail("'\(String(decoding: compactBytes[range], as: UTF8.self))' is not an IP prefix")
                        }
                        peer!.ips.append(ip)
                    }
                } else if keyIs("endpoint") {
                    guard Self.looksLikeEndpoint(value) else { throw fail("Endpoint must be HOST:PORT or [IPv6]:PORT") }
                    peer!.endpoint = value
                    peer!.endpointLine = lineNumber
                } else if keyIs("presharedkey") {
                    guard let k = valueKey(secret: true) else { throw fail("PresharedKey is not a base64 key") }
                    peer!.psk = k
                } else if keyIs("persistentkeepalive") {
                    guard let k = value == "off" ? 0 : UInt16(value) else { throw fail("PersistentKeepalive must be 0 to 65535 or 'off'") }
                    peer!.keepalive = k
                } else {
                    throw fail("unknown key '\(keyText)' in [Peer]")
                }
            }
        }
        try finishPeer()
        return config
    }

    static func parseMark(_ value: String) -> UInt32? {
        if value == "off" { return 0 }
        if value.hasPrefix("0x") || value.hasPrefix("0X") { return UInt32(value.dropFirst(2), radix: 16) }
        return UInt32(value)
    }

    static func looksLikeEndpoint(_ value: String) -> Bool {
        // The last ':' by its byte: Character by Character took most of this function's time.
        guard let colon = value.utf8.lastIndex(of: UInt8(ascii: ":")), colon != value.startIndex else { return false }
        let port = value[value.utf8.index(after: colon)...]
        return !port.isEmpty && (UInt16(port) != nil || port.allSatisfy { $0.isLetter || $0 == "-" })
    }

    private static func parseQuick(key: String, value: String, spaced: String, into q: inout QuickSettings,
                                   fail: (String) -> ConfigError) throws(ConfigError) {
        switch key {
        case "address":
            for item in value.split(separator: ",") {
                guard let ip = AllowedIP(String(item)) else { throw fail("'\(item)' is not an address with prefix") }
                q.addresses.append(ip)
            }
        case "dns": q.dns += value.split(separator: ",").map(String.init)
        case "mtu":
            guard let mtu = UInt32(value), mtu >= 68 else { throw fail("MTU must be a number of at least 68") }
            q.mtu = mtu
        case "table": q.table = value
        case "preup": q.preUp.append(spaced)
        case "postup": q.postUp.append(spaced)
        case "predown": q.preDown.append(spaced)
        case "postdown": q.postDown.append(spaced)
        case "saveconfig":
            switch value.lowercased() {
            case "true": q.saveConfig = true
            case "false": q.saveConfig = false
            default: throw fail("SaveConfig must be true or false")
            }
        default: break
        }
    }

    /// The change `wg setconf` (replace) or `wg addconf` (not replace) makes.
    /// `resolve` turns an Endpoint string into an address (getaddrinfo in practice).
    public func deviceConfig(replace: Bool, resolve: (String) throws(ConfigError) -> Endpoint) throws(ConfigError) -> DeviceConfig {
        var device = DeviceConfig()
        if replace {
            device.replacePeers = true
            device.privateKey = interface.privateKey.map { .set($0) } ?? .remove
            device.listenPort = interface.listenPort ?? 0
            device.firewallMark = interface.firewallMark ?? 0
        } else {
            device.privateKey = interface.privateKey.map { .set($0) }
            device.listenPort = interface.listenPort
            device.firewallMark = interface.firewallMark
        }
        device.peers.reserveCapacity(peers.count)  // 50,000 peers regrown one by one cost a quarter of setconf's page faults
        for p in peers {
            device.peers.append(PeerConfig(publicKey: p.publicKey,
                                           presharedKey: replace ? (p.presharedKey.map { .set($0) } ?? .remove) : p.presharedKey.map { .set($0) },
                                           endpoint: try p.endpoint.map(resolve),
                                           persistentKeepalive: replace ? (p.persistentKeepalive ?? 0) : p.persistentKeepalive,
                                           replaceAllowedIPs: true, allowedIPs: p.allowedIPs))
        }
        return device
    }

    /// `wg-quick strip`: the file without wg-quick's `[Interface]` keys, other lines as they were
    /// (trimmed, as bash's `read` leaves them), followed by the blank line `echo` adds.
    public static func strip(_ text: String) -> String {
        var out: [UInt8] = []
        var inInterface = false
        var lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
        let quickKeys: Set<String> = ["Address", "MTU", "DNS", "Table", "PreUp", "PreDown", "PostUp", "PostDown", "SaveConfig"]
        func trim(_ s: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
            var lo = s.startIndex, hi = s.endIndex
            while lo < hi && isBlank(s[lo]) { lo = s.index(after: lo) }
            while hi > lo && isBlank(s[s.index(before: hi)]) { hi = s.index(before: hi) }
            return s[lo..<hi]
        }
        for rawLine in lines {
            let line = trim(rawLine)
            let stripped = line.prefix { $0 != 0x23 }
            let key = String(decoding: trim(stripped.prefix { $0 != 0x3D }), as: UTF8.self)
            if key.hasPrefix("[") { inInterface = key == "[Interface]" }
            if inInterface && quickKeys.contains(key) { continue }
            out += line
            out.append(0x0A)
        }
        out.append(0x0A)
        return String(decoding: out, as: UTF8.self)
    }
}

extension ConfigFile {
    /// A device's configuration in `wg showconf`'s layout, byte for byte.
    public static func render(_ device: Device, scopeName: (UInt32) -> String? = { String($0) }) -> String {
        var out = "[Interface]\n"
        if device.listenPort != 0 { out += "ListenPort = \(device.listenPort)\n" }
        if device.firewallMark != 0 { out += "FwMark = 0x\(String(device.firewallMark, radix: 16))\n" }
        if let key = device.privateKey { out += "PrivateKey = \(key.base64)\n" }
        out += "\n"
        for (i, peer) in device.peers.enumerated() {
            out += "[Peer]\nPublicKey = \(peer.publicKey.base64)\n"
            if let psk = peer.presharedKey { out += "PresharedKey = \(psk.base64)\n" }
            if !peer.allowedIPs.isEmpty {
                out += "AllowedIPs = " + peer.allowedIPs.map(\.description).joined(separator: ", ") + "\n"
            }
            if let endpoint = peer.endpoint { out += "Endpoint = \(endpoint.formatted(scopeName: scopeName))\n" }
            if peer.persistentKeepalive != 0 { out += "PersistentKeepalive = \(peer.persistentKeepalive)\n" }
            if i + 1 < device.peers.count { out += "\n" }
        }
        return out
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

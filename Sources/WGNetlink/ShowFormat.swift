/// The text `wg show` prints, byte for byte: `dump`, one field, and the human form.
public enum ShowFormat {
    /// The fields `wg show IFACE FIELD` accepts.
    public static let fields = ["public-key", "private-key", "listen-port", "fwmark", "peers", "preshared-keys",
                                "endpoints", "allowed-ips", "latest-handshakes", "transfer", "persistent-keepalive", "dump"]

    /// `wg show IFACE FIELD`; with `prefixInterface` (for `all`), each line starts with the name and a tab.
    /// Nil for an unknown field.
    public static func field(_ field: String, of device: Device, prefixInterface: Bool = false,
                             scopeName: (UInt32) -> String? = { String($0) }) -> String? {
        guard fields.contains(field) else { return nil }
        let prefix = prefixInterface ? device.name + "\t" : ""
        func maybe(_ key: Key?) -> String { key?.base64 ?? "(none)" }
        func endpoint(_ e: Endpoint?) -> String { e.map { $0.formatted(scopeName: scopeName) } ?? "(none)" }
        var out = ""
        switch field {
        case "public-key": out = prefix + maybe(device.publicKey) + "\n"
        case "private-key": out = prefix + maybe(device.privateKey) + "\n"
        case "listen-port": out = prefix + "\(device.listenPort)\n"
        case "fwmark": out = prefix + (device.firewallMark == 0 ? "off" : "0x" + String(device.firewallMark, radix: 16)) + "\n"
        case "dump":
            out = String(decoding: dump(device, prefixInterface: prefixInterface, scopeName: scopeName), as: UTF8.self)
        default:
            for p in device.peers {
                out += prefix + p.publicKey.base64
                switch field {
                case "peers": out += "\n"
                case "preshared-keys": out += "\t\(maybe(p.presharedKey))\n"
                case "endpoints": out += "\t\(endpoint(p.endpoint))\n"
                case "allowed-ips":
                    out += "\t" + (p.allowedIPs.isEmpty ? "(none)" : p.allowedIPs.map(\.description).joined(separator: " ")) + "\n"
                case "latest-handshakes": out += "\t\(p.lastHandshake.seconds)\n"
                case "transfer": out += "\t\(p.receivedBytes)\t\(p.transmittedBytes)\n"
                case "persistent-keepalive": out += "\t" + (p.persistentKeepalive == 0 ? "off" : String(p.persistentKeepalive)) + "\n"
                default: preconditionFailure("\(field) passed the field check")
                }
            }
        }
        return out
    }

    /// `wg show IFACE dump` as bytes, for writing straight out: tens of thousands of lines
    /// need no String on the way.
    public static func dump(_ device: Device, prefixInterface: Bool = false,
                            scopeName: (UInt32) -> String? = { String($0) }) -> [UInt8] {
        withoutActuallyEscaping(scopeName) { scopeName in  // the writer lives only for this call
            var writer = DumpWriter(prefixInterface: prefixInterface, scopeName: scopeName, expectedPeers: device.peers.count)
            for p in device.peers { writer.add(p, of: device) }
            return writer.finish(device)
        }
    }

    /// The `dump` text a peer at a time: the interface's line comes before the first peer's.
    /// Without a peer count to size it for, the text goes into 64 KiB pieces, so that a growing
    /// buffer is never copied.
    public struct DumpWriter {
        private var bytes: [UInt8] = []
        private var pieces: [[UInt8]] = []
        private let pieceSize: Int
        private var started = false
        private let prefixInterface: Bool
        private let scopeName: (UInt32) -> String?

        public init(prefixInterface: Bool = false, scopeName: @escaping (UInt32) -> String? = { String($0) }, expectedPeers: Int? = nil) {
            self.prefixInterface = prefixInterface
            self.scopeName = scopeName
            pieceSize = expectedPeers == nil ? 65536 : .max
            bytes.reserveCapacity(expectedPeers.map { 64 + $0 * 160 } ?? pieceSize)
        }

        private mutating func add(_ s: String) { bytes.append(contentsOf: s.utf8) }
        private mutating func tab() { bytes.append(0x09) }
        private mutating func key(_ key: Key?) {
            if let key { key.appendBase64(to: &bytes) } else { add("(none)") }
        }
        private mutating func prefix(_ device: Device) {
            if prefixInterface { add(device.name); tab() }
        }

        private mutating func start(_ device: Device) {
            guard !started else { return }
            started = true
            prefix(device); key(device.privateKey); tab(); key(device.publicKey); tab()
            appendDecimal(UInt64(device.listenPort), to: &bytes); tab()
            add(device.firewallMark == 0 ? "off" : "0x" + String(device.firewallMark, radix: 16)); bytes.append(0x0A)
        }

        /// One peer's line, after the interface's if that is not out yet.
        public mutating func add(_ p: Peer, of device: Device) {
            start(device)
            addPeer(p, deviceName: device.name)
        }

        /// One peer's line, when the interface's is not known yet: ``finishInPieces(_:)`` then
        /// puts it in front.
        mutating func addPeer(_ p: Peer, deviceName: String) {
            if prefixInterface { add(deviceName); tab() }
            key(p.publicKey); tab(); key(p.presharedKey); tab()
            if let e = p.endpoint { e.appendFormatted(to: &bytes, scopeName: scopeName) } else { add("(none)") }
            tab()
            if p.allowedIPs.isEmpty { add("(none)") }
            for (i, ip) in p.allowedIPs.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                ip.address.appendDescription(to: &bytes)
                bytes.append(0x2F)
                appendDecimal(UInt64(ip.prefixLength), to: &bytes)
            }
            tab(); appendDecimal(UInt64(bitPattern: p.lastHandshake.seconds), to: &bytes)
            tab(); appendDecimal(p.receivedBytes, to: &bytes)
            tab(); appendDecimal(p.transmittedBytes, to: &bytes); tab()
            if p.persistentKeepalive == 0 { add("off") } else { appendDecimal(UInt64(p.persistentKeepalive), to: &bytes) }
            bytes.append(0x0A)
            if bytes.count > pieceSize - 4096 {
                pieces.append(bytes)
                bytes = []
                bytes.reserveCapacity(pieceSize)
            }
        }

        /// The text in pieces to write one after the other, with the interface's line even when
        /// it has no peers.
        public mutating func finishInPieces(_ device: Device) -> [[UInt8]] {
            if started || (pieces.isEmpty && bytes.isEmpty) {
                start(device)
                return pieces + [bytes]
            }
            var interface = DumpWriter(prefixInterface: prefixInterface, scopeName: scopeName, expectedPeers: 0)
            interface.start(device)
            return [interface.bytes] + pieces + [bytes]
        }

        /// The text.
        public mutating func finish(_ device: Device) -> [UInt8] {
            Array(finishInPieces(device).joined())
        }
    }

    /// `wg show IFACE` for a person: private and preshared keys hidden, peers by latest handshake.
    /// `now` is the current Unix time, for "1 minute, 5 seconds ago".
    public static func pretty(_ device: Device, now: Int64, scopeName: (UInt32) -> String? = { String($0) }) -> String {
        var out = "interface: \(device.name)\n"
        if let k = device.publicKey { out += "  public key: \(k.base64)\n" }
        if device.privateKey != nil { out += "  private key: (hidden)\n" }
        if device.listenPort != 0 { out += "  listening port: \(device.listenPort)\n" }
        if device.firewallMark != 0 { out += "  fwmark: 0x\(String(device.firewallMark, radix: 16))\n" }
        let peers = device.peers.enumerated().sorted { a, b in
            a.element.lastHandshake != b.element.lastHandshake ? a.element.lastHandshake > b.element.lastHandshake : a.offset < b.offset
        }.map(\.element)
        for p in peers {
            out += "\npeer: \(p.publicKey.base64)\n"
            if p.presharedKey != nil { out += "  preshared key: (hidden)\n" }
            if let e = p.endpoint { out += "  endpoint: \(e.formatted(scopeName: scopeName))\n" }
            out += "  allowed ips: " + (p.allowedIPs.isEmpty ? "(none)" : p.allowedIPs.map(\.description).joined(separator: ", ")) + "\n"
            if !p.lastHandshake.isNever { out += "  latest handshake: \(ago(now - p.lastHandshake.seconds))\n" }
            if p.receivedBytes != 0 || p.transmittedBytes != 0 {
                out += "  transfer: \(bytes(p.receivedBytes)) received, \(bytes(p.transmittedBytes)) sent\n"
            }
            if p.persistentKeepalive != 0 { out += "  persistent keepalive: every \(duration(Int64(p.persistentKeepalive)))\n" }
        }
        return out
    }

    /// wg's "1 hour, 2 minutes, 3 seconds".
    static func duration(_ total: Int64) -> String {
        if total == 0 { return "0 seconds" }
        var parts: [String] = []
        let units: [(Int64, String)] = [(365 * 86400, "year"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]
        var left = total
        for (size, name) in units where left >= size {
            let n = left / size
            left %= size
            parts.append("\(n) \(name)\(n == 1 ? "" : "s")")
        }
        return parts.joined(separator: ", ")
    }

    static func ago(_ seconds: Int64) -> String {
        seconds < 0 ? "System clock wound backward; connection problems may ensue." : seconds == 0 ? "Now" : duration(seconds) + " ago"
    }

    /// wg's transfer figures: B, then KiB/MiB/GiB/TiB with two decimals.
    static func bytes(_ n: UInt64) -> String {
        let units: [(Double, String)] = [(1024 * 1024 * 1024 * 1024, "TiB"), (1024 * 1024 * 1024, "GiB"), (1024 * 1024, "MiB"), (1024, "KiB")]
        for (size, name) in units where Double(n) >= size {
            let scaled = (Double(n) / size * 100).rounded() / 100
            let whole = Int(scaled)
            let cents = Int(((scaled - Double(whole)) * 100).rounded())
            return "\(whole).\(cents < 10 ? "0" : "")\(cents) \(name)"
        }
        return "\(n) B"
    }
}

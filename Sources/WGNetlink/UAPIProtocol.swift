/// A UAPI reply that is malformed or reports an error.
public enum UAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    /// `errno=N` with N ≠ 0 (stored positive).
    case status(device: String, errno: Int32)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed UAPI reply: \(why)"
        case .status(let device, let errno): "\(device): the userspace implementation answered errno \(errno)"
        }
    }
}

/// The cross-platform userspace API (wireguard-go, boringtun): `get=1` / `set=1` and key=value
/// lines, answered with `errno=N`. Pure text in, text out; the socket lives in ``UserspaceWireGuard``.
public enum UAPIProtocol {
    /// The `set=1` request for `config`, ending in the blank line.
    public static func setRequest(_ config: DeviceConfig, scopeName: (UInt32) -> String? = { String($0) }) -> String {
        var out = "set=1\n"
        if let key = config.privateKey { out += "private_key=\(key.key.hex)\n" }
        if let port = config.listenPort { out += "listen_port=\(port)\n" }
        if let mark = config.firewallMark { out += "fwmark=\(mark)\n" }
        if config.replacePeers { out += "replace_peers=true\n" }
        for peer in config.peers {
            out += "public_key=\(peer.publicKey.hex)\n"
            if peer.remove { out += "remove=true\n"; continue }
            if peer.updateOnly { out += "update_only=true\n" }
            if let psk = peer.presharedKey { out += "preshared_key=\(psk.key.hex)\n" }
            if let endpoint = peer.endpoint { out += "endpoint=\(endpoint.formatted(scopeName: scopeName))\n" }
            if let keepalive = peer.persistentKeepalive { out += "persistent_keepalive_interval=\(keepalive)\n" }
            if peer.replaceAllowedIPs { out += "replace_allowed_ips=true\n" }
            for ip in peer.allowedIPs { out += "allowed_ip=\(ip)\n" }
        }
        return out + "\n"
    }

    /// Parses a `get=1` reply into a device. The public key is derived from the private key.
    /// A reply with `errno=N` (N ≠ 0) throws ``UAPIError/status(device:errno:)``.
    public static func parseGetReply(_ text: String, device name: String,
                                     scopeIndex: (String) -> UInt32? = { UInt32($0) }) throws(UAPIError) -> Device {
        var device = Device(name: name)
        var peer: Peer?
        var status: Int32?
        func bad(_ line: Int, _ why: String) -> UAPIError { .malformed("\(name): line \(line): \(why)") }
        // Bytes, not Characters: a reply for 50,000 peers has 300,000 lines.
        let all = Array(text.utf8)
        var start = 0
        var line = 0
        while start <= all.count {
            let end = all[start...].firstIndex(of: 0x0A) ?? all.count
            let rawLine = all[start..<end]
            start = end + 1
            line += 1
            if rawLine.isEmpty { if status != nil { break } else { continue } }
            guard let eq = rawLine.firstIndex(of: 0x3D) else {
                throw bad(line, "no '=' in '\(String(decoding: rawLine.prefix(80), as: UTF8.self))'")
            }
            let key = String(decoding: rawLine[..<eq], as: UTF8.self)
            let value = String(decoding: rawLine[rawLine.index(after: eq)...], as: UTF8.self)
            func number<T: FixedWidthInteger>(_: T.Type) throws(UAPIError) -> T {
                guard let n = T(value) else { throw bad(line, "\(key)=\(value) is not a number") }
                return n
            }
            func hexKey(secret: Bool) throws(UAPIError) -> Key {
                guard let k = Key(hex: value, secret: secret) else { throw bad(line, "\(key) is not a 64-digit hex key") }
                return k
            }
            switch key {
            case "private_key":
                let k = try hexKey(secret: true)
                device.privateKey = k.isZero ? nil : k
                device.publicKey = k.isZero ? nil : KeyGeneration.publicKey(for: k)
            case "listen_port": device.listenPort = try number(UInt16.self)
            case "fwmark": device.firewallMark = try number(UInt32.self)
            case "public_key":
                if let peer { device.peers.append(peer) }
                peer = Peer(publicKey: try hexKey(secret: false))
            case "errno": status = try number(Int32.self)
            default:
                guard peer != nil else { throw bad(line, "'\(key)' before any public_key") }
                switch key {
                case "preshared_key":
                    let k = try hexKey(secret: true)
                    peer!.presharedKey = k.isZero ? nil : k
                case "endpoint":
                    guard let e = Endpoint(value, scopeIndex: scopeIndex) else { throw bad(line, "bad endpoint '\(value)'") }
                    peer!.endpoint = e
                case "persistent_keepalive_interval": peer!.persistentKeepalive = try number(UInt16.self)
                case "last_handshake_time_sec":
                    peer!.lastHandshake = HandshakeTime(seconds: try number(Int64.self), nanoseconds: peer!.lastHandshake.nanoseconds)
                case "last_handshake_time_nsec":
                    peer!.lastHandshake = HandshakeTime(seconds: peer!.lastHandshake.seconds, nanoseconds: try number(Int64.self))
                case "rx_bytes": peer!.receivedBytes = try number(UInt64.self)
                case "tx_bytes": peer!.transmittedBytes = try number(UInt64.self)
                case "protocol_version": peer!.protocolVersion = try number(UInt32.self)
                case "allowed_ip":
                    guard let ip = AllowedIP(value) else { throw bad(line, "bad allowed_ip '\(value)'") }
                    peer!.allowedIPs.append(ip)
                default: continue  // keys from newer implementations
                }
            }
        }
        if let peer { device.peers.append(peer) }
        guard let status else { throw .malformed("\(name): reply without errno") }
        if status != 0 { throw .status(device: name, errno: abs(status)) }
        return device
    }

    /// The status of a `set=1` reply.
    public static func parseSetReply(_ text: String, device name: String) throws(UAPIError) {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("errno=") }),
              let status = Int32(line.dropFirst(6)) else {
            throw .malformed("\(name): reply without errno")
        }
        if status != 0 { throw .status(device: name, errno: abs(status)) }
    }
}


import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

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
    /// A reply with `errno=N` (N ≠ 0) throws ``WireGuardError/userspace(device:errno:)``.
    public static func parseGetReply(_ text: String, device name: String,
                                     scopeIndex: (String) -> UInt32? = { UInt32($0) }) throws(WireGuardError) -> Device {
        var device = Device(name: name)
        var peer: Peer?
        var status: Int32?
        func bad(_ line: Int, _ why: String) -> WireGuardError { .malformedReply("\(name): line \(line): \(why)") }
        for (lineIndex, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = lineIndex + 1
            if rawLine.isEmpty { if status != nil { break } else { continue } }
            guard let eq = rawLine.firstIndex(of: "=") else { throw bad(line, "no '=' in '\(rawLine)'") }
            let key = rawLine[..<eq], value = String(rawLine[rawLine.index(after: eq)...])
            func number<T: FixedWidthInteger>(_: T.Type) throws(WireGuardError) -> T {
                guard let n = T(value) else { throw bad(line, "\(key)=\(value) is not a number") }
                return n
            }
            func hexKey(secret: Bool) throws(WireGuardError) -> Key {
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
        guard let status else { throw .malformedReply("\(name): reply without errno") }
        if status != 0 { throw .userspace(device: name, errno: abs(status)) }
        return device
    }

    /// The status of a `set=1` reply.
    public static func parseSetReply(_ text: String, device name: String) throws(WireGuardError) {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("errno=") }),
              let status = Int32(line.dropFirst(6)) else {
            throw .malformedReply("\(name): reply without errno")
        }
        if status != 0 { throw .userspace(device: name, errno: abs(status)) }
    }
}

/// A userspace WireGuard's control socket, `/var/run/wireguard/NAME.sock`.
public enum UserspaceWireGuard {
    public static let socketDirectory = "/var/run/wireguard"

    public static func socketPath(for name: String) -> String { "\(socketDirectory)/\(name).sock" }

    /// The names of devices with a socket.
    public static func deviceNames() -> [String] {
        guard let dir = opendir(socketDirectory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name.hasSuffix(".sock") { names.append(String(name.dropLast(5))) }
        }
        return names.sorted()
    }

    public static func hasSocket(for name: String) -> Bool {
        var info = stat()
        return stat(socketPath(for: name), &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
    }

    public static func device(named name: String) throws(WireGuardError) -> Device {
        let reply = try exchange(name, "get=1\n\n")
        return try UAPIProtocol.parseGetReply(reply, device: name) { zone in
            UInt32(zone) ?? (try? NetworkInterfaces.index(of: zone))
        }
    }

    public static func apply(_ config: DeviceConfig, to name: String) throws(WireGuardError) {
        let reply = try exchange(name, UAPIProtocol.setRequest(config) { NetworkInterfaces.name(ofIndex: $0) })
        try UAPIProtocol.parseSetReply(reply, device: name)
    }

    /// Sends one request and reads until the reply's blank line.
    static func exchange(_ name: String, _ request: String) throws(WireGuardError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", errno: Errno(rawValue: errno)) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath(for: name).utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .invalidArgument("interface name too long: \(name)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.enumerated() { raw[i] = b } }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let e = Errno(rawValue: errno)
            if e == .noSuchFileOrDirectory || e == .connectionRefused { throw .noSuchDevice(name) }
            if e == .permissionDenied { throw .permissionDenied(operation: "connect to \(socketPath(for: name))") }
            throw .system(operation: "connect to \(socketPath(for: name))", errno: e)
        }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; throw .system(operation: "write \(name)", errno: Errno(rawValue: errno)) }
            sent += n
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { if errno == EINTR { continue }; throw .system(operation: "read \(name)", errno: Errno(rawValue: errno)) }
            if n == 0 { break }
            reply += chunk[0..<n]
            if reply.count >= 2 && reply[reply.count - 1] == 0x0A && reply[reply.count - 2] == 0x0A { break }
        }
        return String(decoding: reply, as: UTF8.self)
    }
}

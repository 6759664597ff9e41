import WGNetlink
#if canImport(Glibc)
import Glibc
#endif

/// Shared by the `labctl wg` subcommands that talk to a device.
enum WGSupport {
    /// The interface name for a scope id, as getnameinfo(3) shows it.
    @Sendable static func scopeName(_ index: UInt32) -> String? { NetworkInterfaces.name(ofIndex: index) }

    /// `HOST:PORT`, `[IPv6%zone]:PORT`, resolved with getaddrinfo(3) when the host is a name, as wg does.
    static func resolveEndpoint(_ text: String) throws(SetArguments.Failure) -> Endpoint {
        if let endpoint = Endpoint(text, scopeIndex: NetworkInterfaces.scopeIndex(ofZone:)) {
            return endpoint
        }
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else {
            throw SetArguments.Failure(description: "invalid endpoint '\(text)' (expected HOST:PORT)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = String(text[text.index(after: colon)...])
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_UDP)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, port, &hints, &result)
        guard status == 0, let first = result else {
            throw SetArguments.Failure(description: "\(text): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let address = first.pointee.ai_addr!
        if first.pointee.ai_family == AF_INET {
            let sin = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            let bytes = withUnsafeBytes(of: sin.sin_addr) { Array($0) }
            return Endpoint(address: IPAddress(bytes: bytes)!, port: UInt16(bigEndian: sin.sin_port))
        }
        let sin6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
        let bytes = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
        return Endpoint(address: IPAddress(bytes: bytes)!, port: UInt16(bigEndian: sin6.sin6_port), scopeID: sin6.sin6_scope_id)
    }

    /// A key file's text (wg reads `private-key` and `preshared-key` from files).
    static func readKeyFile(_ path: String) throws(SetArguments.Failure) -> String {
        try readFile(path, limit: 1 << 16)
    }

    /// A whole file, up to `limit` bytes.
    static func readFile(_ path: String, limit: Int) throws(SetArguments.Failure) -> String {
        do { return String(decoding: try FileBytes.read(path, limit: limit), as: UTF8.self) } catch {
            throw SetArguments.Failure(description: error.description)
        }
    }

    /// Reads a configuration file ("-" for stdin), returning its text.
    static func readConfig(_ path: String) throws -> String {
        String(decoding: try readConfigBytes(path), as: UTF8.self)
    }

    /// Reads a configuration file ("-" for stdin) as bytes.
    static func readConfigBytes(_ path: String) throws -> [UInt8] {
        if path == "-" { return StandardInput.readAll() }
        do {
            return try FileBytes.read(path, limit: 1 << 30)
        } catch {
            throw LabError(error.description)
        }
    }

    /// Reads and parses a whole configuration file, resolving endpoints, before anything is
    /// applied: a bad line changes nothing. Errors name the file and line.
    static func loadConfig(_ file: String, dialect: ConfigFile.Dialect, replace: Bool) throws -> (ConfigFile, DeviceConfig) {
        func parse(_ all: UnsafeBufferPointer<UInt8>) -> Result<ConfigFile, ConfigError> {
            Result { () throws(ConfigError) in try ConfigFile.parse(utf8: all, file: file, dialect: dialect) }
        }
        let result = file == "-" ? StandardInput.readAll().withUnsafeBufferPointer(parse)
            : try FileBytes.withContents(of: file, limit: 1 << 30, parse)
        do {
            let parsed = try result.get()
            let config = try parsed.deviceConfig(replace: replace) { (endpoint: String) throws(ConfigError) -> Endpoint in
                do {
                    return try resolveEndpoint(endpoint)
                } catch {
                    let line = parsed.peers.first { $0.endpoint == endpoint }?.endpointLine ?? 0
                    throw ConfigError(file: file, line: line, text: "Endpoint = \(endpoint)", reason: "\(error)")
                }
            }
            return (parsed, config)
        } catch {
            throw LabError("\(error)")
        }
    }

    static func write(_ text: String) {
        print(text, terminator: "")
    }
}

/// `--json`: the whole device, keys in base64 as `wg show dump` prints them.
struct DeviceJSON: Encodable {
    let device: WGNetlink.Device

    struct PeerJSON: Encodable {
        let publicKey: String
        let presharedKey: String?
        let endpoint: String?
        let persistentKeepalive: UInt16
        let lastHandshakeSeconds: Int64
        let lastHandshakeNanoseconds: Int64
        let receivedBytes: UInt64
        let transmittedBytes: UInt64
        let allowedIPs: [String]
        let protocolVersion: UInt32
    }

    func encode(to encoder: any Encoder) throws {
        enum Keys: String, CodingKey { case name, interfaceIndex, privateKey, publicKey, listenPort, firewallMark, peers }
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(device.name, forKey: .name)
        try c.encode(device.interfaceIndex, forKey: .interfaceIndex)
        try c.encode(device.privateKey?.base64, forKey: .privateKey)
        try c.encode(device.publicKey?.base64, forKey: .publicKey)
        try c.encode(device.listenPort, forKey: .listenPort)
        try c.encode(device.firewallMark, forKey: .firewallMark)
        try c.encode(device.peers.map { p in
            PeerJSON(publicKey: p.publicKey.base64, presharedKey: p.presharedKey?.base64,
                     endpoint: p.endpoint?.formatted(scopeName: WGSupport.scopeName), persistentKeepalive: p.persistentKeepalive,
                     lastHandshakeSeconds: p.lastHandshake.seconds, lastHandshakeNanoseconds: p.lastHandshake.nanoseconds,
                     receivedBytes: p.receivedBytes, transmittedBytes: p.transmittedBytes,
                     allowedIPs: p.allowedIPs.map(\.description), protocolVersion: p.protocolVersion)
        }, forKey: .peers)
    }
}

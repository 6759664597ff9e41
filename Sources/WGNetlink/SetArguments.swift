/// The argument grammar of `wg set`, turned into a ``DeviceConfig``:
///
///     [listen-port PORT] [fwmark MARK|off] [private-key FILE]
///     [peer KEY [remove] [update-only] [preshared-key FILE] [endpoint HOST:PORT]
///      [persistent-keepalive SECONDS|off] [allowed-ips IP/CIDR[,±IP/CIDR]…]]…
///
/// As in wg, `allowed-ips` replaces the peer's list, and an empty key file (such as `/dev/null`)
/// removes the key. As in newer wireguard-tools, a list whose items all start with `+` or `-`
/// adds or removes single prefixes instead of replacing.
public enum SetArguments {
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// - Parameters:
    ///   - readKeyFile: the text of a key file (`private-key`, `preshared-key`).
    ///   - resolveEndpoint: `HOST:PORT` to an endpoint.
    public static func parse(_ arguments: [String], readKeyFile: (String) throws(Failure) -> String,
                             resolveEndpoint: (String) throws(Failure) -> Endpoint) throws(Failure) -> DeviceConfig {
        var config = DeviceConfig()
        var i = 0
        var peer: PeerConfig?
        func value(_ name: String) throws(Failure) -> String {
            guard i + 1 < arguments.count else { throw Failure(description: "'\(name)' needs a value") }
            i += 1
            return arguments[i]
        }
        func key(file: String, what: String) throws(Failure) -> KeyChange {
            let text = try readKeyFile(file).trimmingWhitespace.filter { $0 != "\n" }
            if text.isEmpty { return .remove }
            guard let key = Key(base64: text, secret: true) else {
                throw Failure(description: "\(file): not a valid \(what) (expected 44 base64 characters)")
            }
            return .set(key)
        }
        while i < arguments.count {
            let word = arguments[i]
            if peer == nil {
                switch word {
                case "listen-port":
                    let v = try value(word)
                    guard let port = UInt16(v) else { throw Failure(description: "invalid listen-port '\(v)'") }
                    config.listenPort = port
                case "fwmark":
                    let v = try value(word)
                    guard let mark = ConfigFile.parseMark(v) else { throw Failure(description: "invalid fwmark '\(v)'") }
                    config.firewallMark = mark
                case "private-key":
                    config.privateKey = try key(file: try value(word), what: "private key")
                case "peer":
                    break
                default:
                    throw Failure(description: "invalid argument '\(word)'")
                }
            }
            if word == "peer" {
                if let p = peer { config.peers.append(p) }
                let v = try value(word)
                guard let k = Key(base64: v) else { throw Failure(description: "invalid peer public key '\(v)'") }
                peer = PeerConfig(publicKey: k)
            } else if peer != nil {
                switch word {
                case "remove": peer!.remove = true
                case "update-only": peer!.updateOnly = true
                case "preshared-key": peer!.presharedKey = try key(file: try value(word), what: "preshared key")
                case "endpoint": peer!.endpoint = try resolveEndpoint(try value(word))
                case "persistent-keepalive":
                    let v = try value(word)
                    guard let k = v == "off" ? 0 : UInt16(v) else { throw Failure(description: "invalid persistent-keepalive '\(v)'") }
                    peer!.persistentKeepalive = k
                case "allowed-ips":
                    let v = try value(word)
                    let items = v.split(separator: ",").map { $0.trimmingWhitespace }
                    let incremental = !items.isEmpty && items.allSatisfy { $0.hasPrefix("+") || $0.hasPrefix("-") }
                    peer!.replaceAllowedIPs = !incremental
                    for item in items {
                        let body = incremental ? String(item.dropFirst()) : item
                        guard let ip = AllowedIP(body) else { throw Failure(description: "invalid allowed IP '\(item)'") }
                        if incremental && item.hasPrefix("-") { peer!.removedAllowedIPs.append(ip) } else { peer!.allowedIPs.append(ip) }
                    }
                default:
                    throw Failure(description: "invalid argument '\(word)' for peer \(peer!.publicKey.base64)")
                }
            }
            i += 1
        }
        if let p = peer { config.peers.append(p) }
        return config
    }
}

/// The last handshake with a peer, as the kernel reports it (a timespec; zero means never).
public struct HandshakeTime: Sendable, Hashable, Comparable {
    public let seconds: Int64
    public let nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let never = HandshakeTime(seconds: 0, nanoseconds: 0)
    public var isNever: Bool { seconds == 0 && nanoseconds == 0 }

    public static func < (a: HandshakeTime, b: HandshakeTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

/// A peer as read back from a device.
public struct Peer: Sendable, Hashable {
    public var publicKey: Key
    /// Nil when the peer has no preshared key (the kernel's all-zero key).
    public var presharedKey: Key?
    public var endpoint: Endpoint?
    /// Seconds; 0 is off.
    public var persistentKeepalive: UInt16
    public var lastHandshake: HandshakeTime
    public var receivedBytes: UInt64
    public var transmittedBytes: UInt64
    public var allowedIPs: [AllowedIP]
    public var protocolVersion: UInt32

    public init(publicKey: Key, presharedKey: Key? = nil, endpoint: Endpoint? = nil, persistentKeepalive: UInt16 = 0,
                lastHandshake: HandshakeTime = .never, receivedBytes: UInt64 = 0, transmittedBytes: UInt64 = 0,
                allowedIPs: [AllowedIP] = [], protocolVersion: UInt32 = 0) {
        self.publicKey = publicKey
        self.presharedKey = presharedKey
        self.endpoint = endpoint
        self.persistentKeepalive = persistentKeepalive
        self.lastHandshake = lastHandshake
        self.receivedBytes = receivedBytes
        self.transmittedBytes = transmittedBytes
        self.allowedIPs = allowedIPs
        self.protocolVersion = protocolVersion
    }
}

/// A WireGuard interface as read back from the kernel or a userspace implementation.
public struct Device: Sendable, Hashable {
    public var name: String
    /// The kernel's interface index; 0 for a userspace device.
    public var interfaceIndex: UInt32
    /// Nil when no private key is set.
    public var privateKey: Key?
    public var publicKey: Key?
    /// 0 before the device is up with a port chosen.
    public var listenPort: UInt16
    /// 0 is off.
    public var firewallMark: UInt32
    public var peers: [Peer]

    public init(name: String, interfaceIndex: UInt32 = 0, privateKey: Key? = nil, publicKey: Key? = nil,
                listenPort: UInt16 = 0, firewallMark: UInt32 = 0, peers: [Peer] = []) {
        self.name = name
        self.interfaceIndex = interfaceIndex
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.listenPort = listenPort
        self.firewallMark = firewallMark
        self.peers = peers
    }
}

/// Setting or clearing a key.
public enum KeyChange: Sendable, Hashable {
    case set(Key)
    case remove

    /// The bytes to send: the key, or 32 zero bytes.
    var key: Key {
        switch self {
        case .set(let key): key
        case .remove: Key(secretBytes: [UInt8](repeating: 0, count: 32))!
        }
    }
}

/// A change to one peer. Everything left nil is left alone.
public struct PeerConfig: Sendable, Hashable {
    public var publicKey: Key
    /// Remove the peer (everything else is ignored).
    public var remove: Bool
    /// Only change a peer that already exists; never create one.
    public var updateOnly: Bool
    public var presharedKey: KeyChange?
    public var endpoint: Endpoint?
    /// Seconds; 0 turns it off.
    public var persistentKeepalive: UInt16?
    /// Replace the peer's allowed IPs with ``allowedIPs`` instead of adding to them.
    public var replaceAllowedIPs: Bool
    public var allowedIPs: [AllowedIP]
    /// Allowed IPs to take away from the peer, leaving the others.
    public var removedAllowedIPs: [AllowedIP]

    public init(publicKey: Key, remove: Bool = false, updateOnly: Bool = false, presharedKey: KeyChange? = nil,
                endpoint: Endpoint? = nil, persistentKeepalive: UInt16? = nil, replaceAllowedIPs: Bool = false,
                allowedIPs: [AllowedIP] = [], removedAllowedIPs: [AllowedIP] = []) {
        self.publicKey = publicKey
        self.remove = remove
        self.updateOnly = updateOnly
        self.presharedKey = presharedKey
        self.endpoint = endpoint
        self.persistentKeepalive = persistentKeepalive
        self.replaceAllowedIPs = replaceAllowedIPs
        self.allowedIPs = allowedIPs
        self.removedAllowedIPs = removedAllowedIPs
    }
}

/// A change to a device. Everything left nil is left alone.
public struct DeviceConfig: Sendable, Hashable {
    public var privateKey: KeyChange?
    /// 0 picks a random port.
    public var listenPort: UInt16?
    /// 0 turns it off.
    public var firewallMark: UInt32?
    /// Remove every peer not in ``peers``.
    public var replacePeers: Bool
    public var peers: [PeerConfig]

    public init(privateKey: KeyChange? = nil, listenPort: UInt16? = nil, firewallMark: UInt32? = nil,
                replacePeers: Bool = false, peers: [PeerConfig] = []) {
        self.privateKey = privateKey
        self.listenPort = listenPort
        self.firewallMark = firewallMark
        self.replacePeers = replacePeers
        self.peers = peers
    }
}

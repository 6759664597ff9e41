import CSodium

/// One peer's endpoint and last handshake, as the active server of a pair sees them.
public struct PeerEndpoint: Sendable, Hashable {
    public var publicKey: Key
    public var endpoint: Endpoint?
    public var lastHandshake: HandshakeTime

    public init(publicKey: Key, endpoint: Endpoint?, lastHandshake: HandshakeTime = .never) {
        self.publicKey = publicKey
        self.endpoint = endpoint
        self.lastHandshake = lastHandshake
    }
}

/// A batch of peer endpoints that the active server of a pair publishes to its standby, so that
/// the standby can reach every client the moment it takes over (clients behind NAT included:
/// the endpoint is the mapping the active server sees).
///
/// On the wire a message is sealed with XChaCha20-Poly1305 under a shared 32-byte key
/// (``EndpointSyncKey``); see ``EndpointSyncKey/seal(_:nonce:)``.
public struct EndpointSyncMessage: Sendable, Hashable {
    /// The WireGuard interface the endpoints belong to.
    public var interface: String
    /// Strictly increasing per sender (microseconds since the epoch at sending): receivers drop
    /// anything not newer than what they accepted last, so a recorded message cannot be replayed.
    public var counter: UInt64
    public var peers: [PeerEndpoint]

    /// Peers per datagram: a full message stays under 1,400 bytes, so no IP fragments.
    public static let maximumPeers = 20

    public init(interface: String, counter: UInt64, peers: [PeerEndpoint]) {
        self.interface = interface
        self.counter = counter
        self.peers = peers
    }

    static let magic: [UInt8] = Array("LWS1".utf8)
    static let peerSize = 32 + 1 + 16 + 2 + 4 + 8 + 4

    /// The plaintext form.
    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(16 + interface.utf8.count + peers.count * Self.peerSize)
        append(counter, to: &out)
        let name = Array(interface.utf8.prefix(15))
        out.append(UInt8(name.count))
        out += name
        append(UInt16(peers.count), to: &out)
        for peer in peers {
            out += peer.publicKey.bytes
            if let e = peer.endpoint {
                out.append(e.address.family == .v4 ? 4 : 6)
                let bytes = e.address.bytes
                out += bytes + [UInt8](repeating: 0, count: 16 - bytes.count)
                append(e.port, to: &out)
                append(e.scopeID, to: &out)
            } else {
                out += [UInt8](repeating: 0, count: 1 + 16 + 2 + 4)
            }
            append(UInt64(bitPattern: peer.lastHandshake.seconds), to: &out)
            append(UInt32(truncatingIfNeeded: peer.lastHandshake.nanoseconds), to: &out)
        }
        return out
    }

    /// Decodes the plaintext form; nil for anything malformed. Never traps.
    public init?(decoding bytes: some Collection<UInt8>) {
        var reader = ByteReader(Array(bytes))
        guard reader.take(4).map(Array.init) == Self.magic, let counter = reader.u64(), let nameLength = reader.u8(),
              nameLength <= 15, let name = reader.take(Int(nameLength)), let count = reader.u16() else { return nil }
        guard reader.remaining == Int(count) * Self.peerSize else { return nil }
        var peers: [PeerEndpoint] = []
        peers.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let keyBytes = reader.take(32), let key = Key(bytes: keyBytes), let family = reader.u8(),
                  let address = reader.take(16), let port = reader.u16(), let scope = reader.u32(),
                  let seconds = reader.u64(), let nanoseconds = reader.u32() else { return nil }
            var endpoint: Endpoint?
            switch family {
            case 0:
                guard address.allSatisfy({ $0 == 0 }), port == 0, scope == 0 else { return nil }
            case 4:
                guard address.dropFirst(4).allSatisfy({ $0 == 0 }), scope == 0, let ip = IPAddress(bytes: address.prefix(4)) else { return nil }
                endpoint = Endpoint(address: ip, port: port)
            case 6:
                guard let ip = IPAddress(bytes: address) else { return nil }
                endpoint = Endpoint(address: ip, port: port, scopeID: scope)
            default:
                return nil
            }
            guard nanoseconds < 1_000_000_000, seconds <= UInt64(Int64.max) else { return nil }
            peers.append(PeerEndpoint(publicKey: key, endpoint: endpoint,
                                      lastHandshake: HandshakeTime(seconds: Int64(seconds), nanoseconds: Int64(nanoseconds))))
        }
        guard let interface = String(validating: name, as: UTF8.self) else { return nil }
        self.init(interface: interface, counter: counter, peers: peers)
    }

    /// Splits `peers` into messages of at most ``maximumPeers``, with consecutive counters from `counter`.
    public static func batches(interface: String, counter: UInt64, peers: [PeerEndpoint]) -> [EndpointSyncMessage] {
        stride(from: 0, to: max(peers.count, 1), by: maximumPeers).enumerated().map { k, start in
            EndpointSyncMessage(interface: interface, counter: counter + UInt64(k),
                                peers: Array(peers[start..<min(start + maximumPeers, peers.count)]))
        }
    }

    private func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }
}

/// Why a sync datagram was refused.
public enum EndpointSyncError: Error, Sendable, Hashable, CustomStringConvertible {
    case notSyncMessage
    case authenticationFailed
    case malformed
    case replayed(counter: UInt64, last: UInt64)
    case stale(counter: UInt64)

    public var description: String {
        switch self {
        case .notSyncMessage: "not an endpoint sync message"
        case .authenticationFailed: "endpoint sync message failed authentication (wrong sync_key, or forged)"
        case .malformed: "endpoint sync message is malformed"
        case .replayed(let counter, let last): "endpoint sync message \(counter) is not newer than \(last): replayed"
        case .stale(let counter): "endpoint sync message \(counter) is too far from this host's clock"
        }
    }
}

/// The shared key of an endpoint sync channel. The bytes live in ``Key``'s zeroed secret storage.
public struct EndpointSyncKey: Sendable, Hashable, CustomStringConvertible {
    private let key: Key

    public init(_ key: Key) { self.key = key.asSecret }

    /// The key file's text: base64 of 32 bytes, as `labctl wg genpsk` writes it.
    public init?(base64 text: some StringProtocol) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" })
        guard words.count == 1, let key = Key(base64: words[0], secret: true) else { return nil }
        self.key = key
    }

    public var description: String { "(hidden)" }

    static let magic: [UInt8] = Array("LWSE".utf8)
    public static let nonceSize = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    static let tagSize = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)

    /// A datagram: magic, a 24-byte nonce, and the message encrypted and authenticated. The
    /// nonce must never repeat under one key; random nonces of this size do not in practice.
    public func seal(_ message: EndpointSyncMessage, nonce: [UInt8]) -> [UInt8] {
        precondition(nonce.count == Self.nonceSize, "endpoint sync nonce must be \(Self.nonceSize) bytes")
        let plain = message.encoded()
        var out = Self.magic + nonce + [UInt8](repeating: 0, count: plain.count + Self.tagSize)
        var written: UInt64 = 0
        let header = Self.magic + nonce
        let status = out.withUnsafeMutableBufferPointer { buffer in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    buffer.baseAddress! + header.count, &written, plain, UInt64(plain.count),
                    header, UInt64(header.count), nil, nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        precondition(status == 0 && Int(written) == plain.count + Self.tagSize)
        return out
    }

    /// A sealed message with a fresh random nonce.
    public func seal(_ message: EndpointSyncMessage) -> [UInt8] {
        seal(message, nonce: KeyGeneration.randomBytes(Self.nonceSize))
    }

    /// Authenticates and decodes a datagram. Nothing in an unauthenticated datagram is parsed.
    public func open(_ datagram: some Collection<UInt8>) throws(EndpointSyncError) -> EndpointSyncMessage {
        let bytes = Array(datagram)
        let headerSize = Self.magic.count + Self.nonceSize
        guard bytes.count >= headerSize + Self.tagSize, Array(bytes[..<4]) == Self.magic else { throw .notSyncMessage }
        let header = Array(bytes[..<headerSize])
        let nonce = Array(bytes[4..<headerSize])
        var plain = [UInt8](repeating: 0, count: bytes.count - headerSize - Self.tagSize)
        var length: UInt64 = 0
        let status = bytes.withUnsafeBufferPointer { b in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    &plain, &length, nil, b.baseAddress! + headerSize, UInt64(b.count - headerSize),
                    header, UInt64(header.count), nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard status == 0 else { throw .authenticationFailed }
        guard let message = EndpointSyncMessage(decoding: plain[..<Int(length)]) else { throw .malformed }
        return message
    }
}

/// Replay protection for a receiver: counters must grow, and stay near this host's clock so that
/// a message recorded before a restart is refused too. Pure: the clock is passed in.
public struct EndpointSyncReplayGuard: Sendable, Hashable {
    public private(set) var last: UInt64 = 0
    /// How far a counter may be from the receiver's clock (microseconds since the epoch).
    public let tolerance: UInt64

    public init(tolerance: UInt64 = 30_000_000) { self.tolerance = tolerance }

    public mutating func accept(_ message: EndpointSyncMessage, nowMicroseconds: UInt64) throws(EndpointSyncError) {
        guard message.counter > last else { throw .replayed(counter: message.counter, last: last) }
        let distance = message.counter > nowMicroseconds ? message.counter - nowMicroseconds : nowMicroseconds - message.counter
        guard distance <= tolerance else { throw .stale(counter: message.counter) }
        last = message.counter
    }
}

/// Big-endian reads that fail instead of trapping.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func u8() -> UInt8? { take(1)?.first }
    mutating func u16() -> UInt16? { take(2).map { $0.reduce(0) { $0 << 8 | UInt16($1) } } }
    mutating func u32() -> UInt32? { take(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } } }
    mutating func u64() -> UInt64? { take(8).map { $0.reduce(0) { $0 << 8 | UInt64($1) } } }
}

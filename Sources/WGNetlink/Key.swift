import CSodium

/// A 32-byte WireGuard key: public, private or preshared.
///
/// Public keys are plain values. Private and preshared keys are ``Key`` values too,
/// but their bytes live in a ``SecretBytes`` box that is zeroed when freed, and
/// `description` never shows them. Use ``isSecret`` to tell the two apart.
public struct Key: Sendable, Hashable, CustomStringConvertible {
    /// Key length in bytes.
    public static let byteCount = 32

    private let storage: Storage

    private enum Storage: Sendable, Hashable {
        case open(UInt64, UInt64, UInt64, UInt64)
        case secret(SecretBytes)
    }

    /// A public key (or any non-secret 32 bytes).
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Key.byteCount else { return nil }
        if let key = bytes.withContiguousStorageIfAvailable({ Key(bytes: UnsafeRawBufferPointer($0)) }) {
            self = key!
            return
        }
        self = Array(bytes).withUnsafeBytes { Key(bytes: $0)! }
    }

    /// A public key from 32 bytes in place: four loads, no per-byte loop (dumps decode
    /// tens of thousands of keys).
    public init?(bytes raw: UnsafeRawBufferPointer) {
        guard raw.count == Key.byteCount else { return nil }
        let w = Key.words(raw)
        storage = .open(w.0, w.1, w.2, w.3)
    }

    /// A private or preshared key; its bytes are zeroed when the last copy goes away.
    public init?(secretBytes bytes: some Collection<UInt8>) {
        guard bytes.count == Key.byteCount else { return nil }
        let box = SecretBytes()
        box.withMutableBytes { raw in
            if bytes.withContiguousStorageIfAvailable({ raw.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
        }
        storage = .secret(box)
    }

    /// A private or preshared key from 32 bytes in place.
    public init?(secretBytes raw: UnsafeRawBufferPointer) {
        guard raw.count == Key.byteCount else { return nil }
        let box = SecretBytes()
        box.withMutableBytes { $0.copyMemory(from: raw) }
        storage = .secret(box)
    }

    init(secret box: SecretBytes) { storage = .secret(box) }

    /// Whether this key holds secret material.
    public var isSecret: Bool {
        if case .secret = storage { return true }
        return false
    }

    /// The same bytes, marked secret.
    public var asSecret: Key {
        if isSecret { return self }
        return withUnsafeBytes { Key(secretBytes: $0)! }
    }

    /// Whether every byte is zero (WireGuard's "no key").
    public var isZero: Bool {
        withUnsafeBytes { raw in raw.allSatisfy { $0 == 0 } }
    }

    /// Calls `body` with the 32 key bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .open(let a, let b, let c, let d):
            let words = (a, b, c, d)
            return try Swift.withUnsafeBytes(of: words) { try body($0) }
        case .secret(let box):
            return try box.withBytes(body)
        }
    }

    /// The key bytes as an array. For secret keys, prefer ``withUnsafeBytes(_:)``.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Standard base64, 44 characters, as `wg` prints keys.
    public var base64: String { withUnsafeBytes { Base64.encode($0) } }

    /// ``base64`` appended to a byte buffer.
    func appendBase64(to out: inout [UInt8]) {
        withUnsafeBytes { Base64.append(key: $0, to: &out) }
    }

    /// Lowercase hex, 64 characters, as the UAPI protocol carries keys.
    public var hex: String { withUnsafeBytes { Hex.encode($0) } }

    /// Parses a key in `wg`'s strict base64 form: 44 characters ending in one `=`,
    /// with the unused low bits of the last character zero.
    public init?(base64 text: some StringProtocol, secret: Bool = false) {
        var copy = String(text)
        guard let key = copy.withUTF8({ Key(base64UTF8: $0, secret: secret) }) else { return nil }
        self = key
    }

    /// The same from UTF-8 bytes in place.
    init?(base64UTF8 text: UnsafeBufferPointer<UInt8>, secret: Bool) {
        guard let key = Key.decoded(secret: secret, { Base64.decodeKey(utf8: text, into: $0) }) else { return nil }
        self = key
    }

    /// Parses a key as 64 hex digits (either case), as the UAPI protocol sends them.
    public init?(hex text: some StringProtocol, secret: Bool = false) {
        var copy = String(text)
        guard let key = copy.withUTF8({ Key(hexUTF8: $0, secret: secret) }) else { return nil }
        self = key
    }

    /// The same from UTF-8 bytes in place.
    init?(hexUTF8 text: UnsafeBufferPointer<UInt8>, secret: Bool) {
        guard text.count == 2 * Key.byteCount else { return nil }
        let key = Key.decoded(secret: secret) { raw in
            for i in 0..<Key.byteCount {
                guard let high = Hex.nibble(text[2 * i]), let low = Hex.nibble(text[2 * i + 1]) else { return false }
                raw[i] = high << 4 | low
            }
            return true
        }
        guard let key else { return nil }
        self = key
    }

    /// A key that `decode` writes into a 32-byte scratch buffer, which is zeroed afterwards;
    /// nil when `decode` returns false.
    private static func decoded(secret: Bool, _ decode: (UnsafeMutableRawBufferPointer) -> Bool) -> Key? {
        var scratch: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { raw in
            defer { sodium_memzero(raw.baseAddress, Key.byteCount) }
            guard decode(raw) else { return nil }
            let bytes = UnsafeRawBufferPointer(raw)
            return secret ? Key(secretBytes: bytes) : Key(bytes: bytes)
        }
    }

    public var description: String { isSecret ? "(hidden)" : base64 }

    public static func == (lhs: Key, rhs: Key) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.open(let a0, let a1, let a2, let a3), .open(let b0, let b1, let b2, let b3)):
            return a0 == b0 && a1 == b1 && a2 == b2 && a3 == b3
        default:
            return lhs.withUnsafeBytes { l in
                rhs.withUnsafeBytes { r in sodium_memcmp(l.baseAddress, r.baseAddress, 32) == 0 }
            }
        }
    }

    /// The key bytes as four words in memory order, read from the secret box if need be.
    private var words: (UInt64, UInt64, UInt64, UInt64) {
        switch storage {
        case .open(let a, let b, let c, let d): return (a, b, c, d)
        case .secret(let box): return box.withBytes(Key.words)
        }
    }

    /// 32 bytes as four words in memory order.
    private static func words(_ raw: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64, UInt64) {
        (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
         raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// The four words xored together: a cheap hash for ``PeerIndex`` (public keys are uniform).
    var foldedWords: UInt64 {
        let w = words
        return w.0 ^ w.1 ^ w.2 ^ w.3
    }

    /// Hashes the four words, so an open key and a secret one with the same bytes hash alike.
    public func hash(into hasher: inout Hasher) {
        let w = words
        hasher.combine(w.0); hasher.combine(w.1); hasher.combine(w.2); hasher.combine(w.3)
    }
}

/// 32 secret bytes on the heap, zeroed with `sodium_memzero` when freed.
public final class SecretBytes: @unchecked Sendable, Hashable {
    // Written only during initialisation, before the box is shared.
    private let pointer: UnsafeMutableRawPointer

    init() {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: Key.byteCount, alignment: 8)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: Key.byteCount)
    }

    deinit {
        sodium_memzero(pointer, Key.byteCount)
        pointer.deallocate()
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: Key.byteCount))
    }

    func withMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: Key.byteCount))
    }

    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        sodium_memcmp(lhs.pointer, rhs.pointer, Key.byteCount) == 0
    }

    public func hash(into hasher: inout Hasher) {
        withBytes { hasher.combine(bytes: $0) }
    }
}

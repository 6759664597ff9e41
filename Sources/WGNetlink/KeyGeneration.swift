import CSodium

/// Key generation and derivation through libsodium, as `wg genkey`, `wg pubkey` and `wg genpsk` do.
public enum KeyGeneration {
    private static let initialised: Bool = sodium_init() >= 0

    /// Fills `count` bytes from libsodium's CSPRNG.
    static func fillRandom(_ raw: UnsafeMutableRawBufferPointer) {
        precondition(initialised, "libsodium failed to initialise")
        randombytes_buf(raw.baseAddress!, raw.count)
    }

    /// `count` random bytes from libsodium's CSPRNG (nonces and the like; not for keys).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { if $0.count > 0 { fillRandom($0) } }
        return out
    }

    /// A new private key: 32 random bytes, clamped for Curve25519.
    public static func privateKey() -> Key {
        let box = SecretBytes()
        box.withMutableBytes { raw in
            fillRandom(raw)
            clamp(raw)
        }
        return Key(secret: box)
    }

    /// A private key from injected randomness, for deterministic tests.
    public static func privateKey(using generator: inout some RandomNumberGenerator) -> Key {
        let box = SecretBytes()
        box.withMutableBytes { raw in
            for i in 0..<raw.count { raw[i] = UInt8.random(in: 0...255, using: &generator) }
            clamp(raw)
        }
        return Key(secret: box)
    }

    /// A new preshared key: 32 random bytes, not clamped.
    public static func presharedKey() -> Key {
        let box = SecretBytes()
        box.withMutableBytes { fillRandom($0) }
        return Key(secret: box)
    }

    /// The Curve25519 public key of `privateKey`, clamping a copy first as `wg pubkey` does.
    public static func publicKey(for privateKey: Key) -> Key {
        precondition(initialised, "libsodium failed to initialise")
        var clamped = [UInt8](repeating: 0, count: 32)
        var out = [UInt8](repeating: 0, count: 32)
        privateKey.withUnsafeBytes { raw in
            for i in 0..<32 { clamped[i] = raw[i] }
        }
        clamped.withUnsafeMutableBytes { clamp($0) }
        // crypto_scalarmult_curve25519_base fails only for an all-zero result, which a
        // clamped scalar cannot give; wg prints the zero key in that case, and so do we.
        _ = crypto_scalarmult_curve25519_base(&out, clamped)
        sodium_memzero(&clamped, 32)
        return Key(bytes: out)!
    }

    /// Curve25519 clamping: clear the low 3 bits, clear bit 255, set bit 254.
    static func clamp(_ raw: UnsafeMutableRawBufferPointer) {
        raw[0] &= 248
        raw[31] = (raw[31] & 127) | 64
    }
}

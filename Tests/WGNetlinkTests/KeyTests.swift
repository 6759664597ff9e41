import Testing
@testable import WGNetlink

/// The key pairs published in the HA WireGuard write-up (shared/seeds), checked against `wg pubkey`.
private let serverPrivate = "YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI="
private let serverPublic = "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8="
private let peerPrivate = "OIbpWVIVVBOtWfwkmXkFRN7Q/jBdfYtsGt7j97aHx1Q="
private let peerPublic = "3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg="

struct KeyTests {
    @Test("Every byte decodes to its place in the base64 alphabet, or to -1")
    func base64SextetsOfEveryByte() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for byte in 0...255 {
            #expect(Base64.sextet(UInt8(byte)) == alphabet.firstIndex(of: UInt8(byte)).map(Int32.init) ?? -1, "byte \(byte)")
        }
    }

    @Test func base64RoundTrip() throws {
        let key = try #require(Key(base64: serverPublic))
        #expect(key.base64 == serverPublic)
        #expect(key.bytes.count == 32)
        #expect(!key.isSecret)
    }

    @Test func hexRoundTrip() throws {
        let key = try #require(Key(base64: serverPublic))
        let again = try #require(Key(hex: key.hex))
        #expect(again == key)
        #expect(key.hex.count == 64)
        #expect(Key(hex: key.hex.uppercased()) == key)
    }

    @Test(arguments: [
        "",
        "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8",    // no padding
        "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8==",  // too long
        "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx9=",   // unused low bits set
        "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im-vmx8=",   // URL-safe alphabet
        "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vm 8=",
    ])
    func strictBase64Rejects(_ text: String) {
        #expect(Key(base64: text) == nil)
    }

    @Test func hexRejectsWrongLengthAndDigits() {
        #expect(Key(hex: String(repeating: "a", count: 63)) == nil)
        #expect(Key(hex: String(repeating: "a", count: 66)) == nil)
        #expect(Key(hex: String(repeating: "g", count: 64)) == nil)
    }

    @Test func publicKeysOfPublishedPairs() throws {
        let server = try #require(Key(base64: serverPrivate, secret: true))
        let peer = try #require(Key(base64: peerPrivate, secret: true))
        #expect(KeyGeneration.publicKey(for: server).base64 == serverPublic)
        #expect(KeyGeneration.publicKey(for: peer).base64 == peerPublic)
    }

    @Test func secretKeysNeverPrint() throws {
        let key = try #require(Key(base64: serverPrivate, secret: true))
        #expect(key.isSecret)
        #expect(key.description == "(hidden)")
        #expect("\(key)" == "(hidden)")
        #expect(!String(reflecting: key).contains(serverPrivate))
        #expect(key.base64 == serverPrivate)
    }

    @Test func secretAndOpenKeysWithSameBytesAreEqual() throws {
        let open = try #require(Key(base64: serverPrivate))
        #expect(open.asSecret == open)
        #expect(open.asSecret.hashValue == open.hashValue)
    }

    @Test func generatedPrivateKeysAreClamped() {
        for _ in 0..<32 {
            let bytes = KeyGeneration.privateKey().bytes
            #expect(bytes[0] & 7 == 0)
            #expect(bytes[31] & 0x80 == 0)
            #expect(bytes[31] & 0x40 == 0x40)
        }
    }

    @Test func injectedRandomnessIsDeterministic() {
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7)
        let k1 = KeyGeneration.privateKey(using: &a)
        let k2 = KeyGeneration.privateKey(using: &b)
        #expect(k1 == k2)
        #expect(k1.isSecret)
    }

    @Test func presharedKeysAreRandomAndSecret() {
        let a = KeyGeneration.presharedKey(), b = KeyGeneration.presharedKey()
        #expect(a != b)
        #expect(a.isSecret)
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

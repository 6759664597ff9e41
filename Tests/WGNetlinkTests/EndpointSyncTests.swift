import Testing
import WGNetlink

struct EndpointSyncTests {
    static let key = EndpointSyncKey(Key(secretBytes: [UInt8](repeating: 7, count: 32))!)
    static let nonce = [UInt8](repeating: 1, count: EndpointSyncKey.nonceSize)

    static func peers(_ n: Int) -> [PeerEndpoint] {
        (0..<n).map { i in
            let key = Key(bytes: [UInt8](repeating: UInt8(i), count: 32))!
            let endpoint: Endpoint? = switch i % 3 {
            case 0: Endpoint(address: IPAddress("2001:db8:1::\(i + 1)")!, port: UInt16(40000 + i))
            case 1: Endpoint(address: IPAddress("192.0.2.\(i)")!, port: 51820)
            default: i % 2 == 0 ? nil : Endpoint(address: IPAddress("fe80::1")!, port: 1, scopeID: 3)
            }
            return PeerEndpoint(publicKey: key, endpoint: endpoint, lastHandshake: HandshakeTime(seconds: 1_700_000_000 + Int64(i), nanoseconds: 5))
        }
    }

    @Test func plaintextRoundTrip() throws {
        let message = EndpointSyncMessage(interface: "wg1", counter: 123_456, peers: Self.peers(20))
        #expect(EndpointSyncMessage(decoding: message.encoded()) == message)
        #expect(message.encoded().count < 1400, "a full batch must fit one unfragmented datagram")
    }

    @Test func sealedRoundTrip() throws {
        let message = EndpointSyncMessage(interface: "wg1", counter: 9, peers: Self.peers(5))
        let datagram = Self.key.seal(message, nonce: Self.nonce)
        #expect(try Self.key.open(datagram) == message)
    }

    @Test("A message sealed with another key is refused before anything in it is read")
    func wrongKeyRejected() throws {
        let other = EndpointSyncKey(Key(secretBytes: [UInt8](repeating: 8, count: 32))!)
        let datagram = other.seal(EndpointSyncMessage(interface: "wg1", counter: 9, peers: Self.peers(1)), nonce: Self.nonce)
        #expect(throws: EndpointSyncError.authenticationFailed) { try Self.key.open(datagram) }
    }

    @Test("Any flipped bit, header included, fails authentication")
    func tamperingRejected() throws {
        let datagram = Self.key.seal(EndpointSyncMessage(interface: "wg1", counter: 9, peers: Self.peers(2)), nonce: Self.nonce)
        for index in stride(from: 4, to: datagram.count, by: 7) {
            var bad = datagram
            bad[index] ^= 0x10
            #expect(throws: EndpointSyncError.authenticationFailed) { try Self.key.open(bad) }
        }
        #expect(throws: EndpointSyncError.notSyncMessage) { try Self.key.open(Array(datagram.prefix(20))) }
        #expect(throws: EndpointSyncError.notSyncMessage) { try Self.key.open(Array("GET / HTTP/1.0\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 60)) }
    }

    @Test("Counters must grow and stay near the receiver's clock")
    func replayGuard() throws {
        var guardian = EndpointSyncReplayGuard(tolerance: 30_000_000)
        let now: UInt64 = 1_800_000_000_000_000
        let first = EndpointSyncMessage(interface: "wg1", counter: now, peers: [])
        try guardian.accept(first, nowMicroseconds: now)
        #expect(throws: EndpointSyncError.replayed(counter: now, last: now)) { try guardian.accept(first, nowMicroseconds: now + 1) }
        let old = EndpointSyncMessage(interface: "wg1", counter: now - 60_000_000, peers: [])
        var fresh = EndpointSyncReplayGuard()
        #expect(throws: EndpointSyncError.stale(counter: now - 60_000_000)) { try fresh.accept(old, nowMicroseconds: now) }
        try guardian.accept(EndpointSyncMessage(interface: "wg1", counter: now + 1, peers: []), nowMicroseconds: now)
    }

    @Test func batchesSplitAndNumberConsecutively() {
        let batches = EndpointSyncMessage.batches(interface: "wg1", counter: 100, peers: Self.peers(45))
        #expect(batches.map(\.peers.count) == [20, 20, 5])
        #expect(batches.map(\.counter) == [100, 101, 102])
        #expect(EndpointSyncMessage.batches(interface: "wg1", counter: 1, peers: []).count == 1)
    }

    @Test func keyFileText() {
        #expect(EndpointSyncKey(base64: "  \(Key(bytes: [UInt8](repeating: 3, count: 32))!.base64)\n") != nil)
        #expect(EndpointSyncKey(base64: "not a key") == nil)
        #expect(EndpointSyncKey(base64: "\(Key(bytes: [UInt8](repeating: 3, count: 32))!.base64) extra") == nil)
        #expect("\(Self.key)" == "(hidden)")
    }
}

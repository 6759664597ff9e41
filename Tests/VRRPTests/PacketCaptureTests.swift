import Foundation
import Testing
import VRRP

struct PacketCaptureTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/pcap")

    static func read(_ name: String) throws -> [CapturedPacket] {
        try PacketCapture.read(Array(try Data(contentsOf: corpus.appendingPathComponent(name))))
    }

    @Test(arguments: ["ethernet.pcap", "ethernet.pcapng"])
    func readsEthernetCapturesInBothFormats(file: String) throws {
        let packets = try Self.read(file)
        #expect(packets.count == 2)
        let ip = try #require(packets[0].ipPacket)
        let split = try #require(VRRPCodec.splitIPPacket(ip))
        guard case .success(let ad) = VRRPCodec.decode(split.message, ttl: split.ttl, source: split.source, destination: split.destination) else {
            Issue.record("did not decode")
            return
        }
        #expect(ad.virtualRouterID == 52 && ad.priority == 200)
        // pcap: microseconds; pcapng: if_tsresol 9 (nanoseconds), truncated to microseconds.
        #expect(packets[0].timestamp == (file.hasSuffix("ng") ? 1_700_000_000_123_456 : 1_700_000_000_123_456))
    }

    @Test func malformedCapturesAreErrorsWithAnOffset() {
        do { _ = try PacketCapture.read(Array("hello".utf8)) } catch { #expect(error.description == "offset 0: not a pcap or pcapng file") }
        var truncated = Array((try? Data(contentsOf: Self.corpus.appendingPathComponent("ethernet.pcap"))) ?? Data())
        truncated.removeLast(5)
        #expect(throws: PacketCaptureError.self) { try PacketCapture.read(truncated) }
    }
}

import Foundation
import Testing

/// keepalived's own advertisements, captured from a network namespace, decode with labctl:
/// the codec and its checksums agree with a real peer for v3 over IPv4 and IPv6 and for v2.
@Suite struct KeepalivedPacketTests {
    @Test func labctlDecodesEveryKeepalivedAdvertisement() throws {
        let script = packageRoot.appendingPathComponent("Tests/labctlTests/Scripts/keepalived-packets.sh").path
        let r = try run(script, [labctlPath])
        #expect(r.status == 0, "\(r.stderr.suffix(1000))")
        let sections = r.stdout.components(separatedBy: "--- pcap\n")
        let packets = sections[0].components(separatedBy: "--- packet ").dropFirst()
        #expect(packets.count >= 10)
        var seen: [Int: [String: Any]] = [:]
        for packet in packets {
            let body = packet.drop { $0 != "\n" }
            let decoded = try #require(try json(String(body)) as? [String: Any], "labctl could not decode: \(packet.prefix(300))")
            seen[decoded["virtualRouterID"] as? Int ?? -1] = decoded
        }
        let v3v4 = try #require(seen[52])
        #expect(v3v4["version"] as? Int == 3)
        #expect(v3v4["priority"] as? Int == 200)
        #expect(v3v4["addresses"] as? [String] == ["192.0.2.100"])
        #expect(v3v4["advertisementInterval"] as? String == "1.000000")
        let v3v6 = try #require(seen[53])
        #expect(v3v6["version"] as? Int == 3)
        #expect(v3v6["addresses"] as? [String] == ["2001:db8:1::2"])
        #expect(v3v6["destination"] as? String == "ff02::12")
        let v2 = try #require(seen[54])
        #expect(v2["version"] as? Int == 2)
        #expect(v2["priority"] as? Int == 120)
        #expect(v2["advertisementInterval"] as? String == "2.000000")
        #expect(v2["addresses"] as? [String] == ["192.0.2.101"])

        // The same capture (pcapng, as tshark writes it) decoded in one go, with capture times.
        let captured = try #require(try json(sections.last ?? "") as? [[String: Any]])
        #expect(captured.count == packets.count)
        #expect(captured.allSatisfy { $0["discarded"] == nil })
        let vrids = Set(captured.compactMap { ($0["advertisement"] as? [String: Any])?["virtualRouterID"] as? Int })
        #expect(vrids == [52, 53, 54])
        let times = captured.compactMap { Double($0["time"] as? String ?? "") }
        #expect(times.count == captured.count && times == times.sorted() && times.first ?? 0 > 1_700_000_000)
    }

    @Test func corruptedPacketIsDiscardedWithTheRule() throws {
        // keepalived's VRID 52 advertisement as captured, with one checksum bit flipped.
        let good = "45c0002000010000ff701899c0000201e00000123134c8010064a170c0000264"
        #expect(try labctl("vrrp", "decode", good).status == 0)
        let bad = try labctl("vrrp", "decode", good.replacingOccurrences(of: "a170c000", with: "a171c000"))
        #expect(bad.status != 0)
        #expect(bad.stderr == "labctl: error: discarded: bad checksum\n")
    }
}

import Foundation
import Testing
@testable import VRRP

let v4Source = VRRPAddress(bytes: [192, 0, 2, 1])!
let v4Group = VRRPAddress(bytes: [224, 0, 0, 18])!
let v6Source = VRRPAddress(bytes: [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [1])!
let v6Group = VRRPAddress(bytes: [0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [0x12])!
let vip6 = VRRPAddress(bytes: [0x20, 0x01, 0x0D, 0xB8, 0, 1] + [UInt8](repeating: 0, count: 9) + [2])!

struct PacketTests {
    static let ad4 = VRRPAdvertisement(virtualRouterID: 52, priority: 99, advertisementInterval: .centiseconds(100),
                                       addresses: [VRRPAddress(bytes: [192, 0, 2, 100])!])
    static let ad6 = VRRPAdvertisement(virtualRouterID: 52, priority: 99, advertisementInterval: .centiseconds(100), addresses: [vip6])
    static let ad2 = VRRPAdvertisement(version: .v2, virtualRouterID: 7, priority: 255, advertisementInterval: .seconds(1),
                                       addresses: [VRRPAddress(bytes: [10, 0, 0, 1])!, VRRPAddress(bytes: [10, 0, 0, 2])!],
                                       authenticationType: 1, authenticationData: Array("secret".utf8))

    @Test func roundTripsForEveryForm() {
        for (ad, s, d) in [(Self.ad4, v4Source, v4Group), (Self.ad6, v6Source, v6Group), (Self.ad2, v4Source, v4Group)] {
            let bytes = VRRPCodec.encode(ad, source: s, destination: d)
            var expected = ad
            if ad.version == .v2 { expected.authenticationData = Array("secret".utf8) + [0, 0] }
            #expect(VRRPCodec.decode(bytes, ttl: 255, source: s, destination: d) == .success(expected))
        }
        #expect(vip6.description == "2001:db8:1::2")
        #expect(v6Group.description == "ff02::12")
    }

    @Test func v3OverIPv4AcceptsBothChecksumForms() {
        let without = VRRPCodec.encode(Self.ad4, source: v4Source, destination: v4Group, ipv4PseudoHeader: .omitted)
        let with = VRRPCodec.encode(Self.ad4, source: v4Source, destination: v4Group)
        #expect(without != with)
        #expect((try? VRRPCodec.decode(without, ttl: 255, source: v4Source, destination: v4Group).get()) != nil)
        #expect((try? VRRPCodec.decode(with, ttl: 255, source: v4Source, destination: v4Group).get()) != nil)
    }

    @Test func everyDiscardRuleHasItsCounter() {
        var filter = VRRPReceiveFilter(version: .v3, virtualRouterID: 52, isIPv6: false, advertisementInterval: .centiseconds(100))
        let good = VRRPCodec.encode(Self.ad4, source: v4Source, destination: v4Group)
        func reencode(_ change: (inout VRRPAdvertisement) -> Void) -> [UInt8] {
            var ad = Self.ad4
            change(&ad)
            return VRRPCodec.encode(ad, source: v4Source, destination: v4Group)
        }
        var badChecksum = good; badChecksum[7] ^= 1
        var badType = good; badType[0] = 0x32
        var badVersion = good; badVersion[0] = 0x51
        let cases: [([UInt8], UInt8, VRRPDiscard)] = [
            (good, 254, .ttlNot255), (badVersion, 255, .badVersion), (badType, 255, .badType),
            (Array(good.prefix(10)), 255, .tooShort), (badChecksum, 255, .badChecksum),
            (reencode { $0.virtualRouterID = 9 }, 255, .unknownVirtualRouter), (reencode { $0.addresses = [] }, 255, .noAddresses),
            (reencode { $0.advertisementInterval = .centiseconds(0) }, 255, .zeroInterval),
            (reencode { $0.version = .v2 }, 255, .badVersion),
        ]
        for (bytes, ttl, reason) in cases {
            #expect(filter.accept(bytes, ttl: ttl, source: v4Source, destination: v4Group) == nil, "\(reason)")
            #expect(filter.counters[reason] >= 1, "\(reason)")
        }
        #expect(filter.accept(good, ttl: 255, source: v4Source, destination: v4Group) != nil)

        var v2 = VRRPReceiveFilter(version: .v2, virtualRouterID: 7, isIPv6: false, advertisementInterval: .seconds(1),
                                   authenticationType: 1, authenticationData: Array("secret".utf8))
        #expect(v2.accept(VRRPCodec.encode(Self.ad2, source: v4Source, destination: v4Group), ttl: 255, source: v4Source, destination: v4Group) != nil)
        var wrongAuth = Self.ad2; wrongAuth.authenticationData = Array("guess".utf8)
        #expect(v2.accept(VRRPCodec.encode(wrongAuth, source: v4Source, destination: v4Group), ttl: 255, source: v4Source, destination: v4Group) == nil)
        #expect(v2.counters[.authenticationMismatch] == 1)
        var wrongInterval = Self.ad2; wrongInterval.advertisementInterval = .seconds(2)
        #expect(v2.accept(VRRPCodec.encode(wrongInterval, source: v4Source, destination: v4Group), ttl: 255, source: v4Source, destination: v4Group) == nil)
        #expect(v2.counters[.intervalMismatch] == 1)
    }

    @Test func decodingArbitraryBytesNeverTraps() {
        var state: UInt64 = 1
        for length in 0..<200 {
            var bytes: [UInt8] = []
            for _ in 0..<length { state = state &* 6364136223846793005 &+ 1442695040888963407; bytes.append(UInt8(state >> 56)) }
            if length > 0 { bytes[0] = 0x31 }
            _ = VRRPCodec.decode(bytes, ttl: 255, source: v4Source, destination: v4Group)
            _ = VRRPCodec.decode(bytes, ttl: 255, source: v6Source, destination: v6Group)
        }
    }

    /// tshark, an independent implementation, decodes labctl's packets and finds their checksums good.
    @Test func tsharkAgreesOnEveryForm() throws {
        func ipv4(_ payload: [UInt8], _ s: VRRPAddress, _ d: VRRPAddress) -> [UInt8] {
            var h: [UInt8] = [0x45, 0xC0, 0, UInt8(20 + payload.count), 0, 0, 0, 0, 255, 112, 0, 0] + s.bytes + d.bytes
            var sum: UInt32 = 0
            for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(h[i]) << 8 | UInt32(h[i + 1]) }
            while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
            h[10] = UInt8(~sum >> 8 & 0xFF); h[11] = UInt8(~sum & 0xFF)
            return h + payload
        }
        func ipv6(_ payload: [UInt8], _ s: VRRPAddress, _ d: VRRPAddress) -> [UInt8] {
            [0x60, 0, 0, 0, 0, UInt8(payload.count), 112, 255] + s.bytes + d.bytes + payload
        }
        let packets = [
            ipv4(VRRPCodec.encode(Self.ad4, source: v4Source, destination: v4Group), v4Source, v4Group),
            ipv6(VRRPCodec.encode(Self.ad6, source: v6Source, destination: v6Group), v6Source, v6Group),
            ipv4(VRRPCodec.encode(Self.ad2, source: v4Source, destination: v4Group), v4Source, v4Group),
            // A control: the same v3 packet with one checksum bit flipped must be reported bad.
            ipv4(VRRPCodec.encode(Self.ad4, source: v4Source, destination: v4Group).enumerated().map { $0.offset == 7 ? $0.element ^ 1 : $0.element }, v4Source, v4Group),
        ]
        // pcap with LINKTYPE_RAW (101): the records are bare IP packets.
        func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        var pcap = le32(0xA1B2C3D4) + [2, 0, 4, 0] + le32(0) + le32(0) + le32(65535) + le32(101)
        for (i, p) in packets.enumerated() { pcap += le32(UInt32(i + 1)) + le32(0) + le32(UInt32(p.count)) + le32(UInt32(p.count)) + p }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("labctl-vrrp-\(getpid()).pcap")
        try Data(pcap).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        process.arguments = ["-r", file.path, "-T", "fields", "-e", "vrrp.version", "-e", "vrrp.virt_rtr_id", "-e", "vrrp.prio",
                             "-e", "vrrp.addr_count", "-e", "vrrp.checksum.status"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // vrrp.checksum.status: 1 is good, 0 is bad (Wireshark's PROTO_CHECKSUM_E_GOOD/BAD).
        #expect(output.split(separator: "\n") == ["3\t52\t99\t1\t1", "3\t52\t99\t1\t1", "2\t7\t255\t2\t1", "3\t52\t99\t1\t0"], "tshark: \(output)")
    }
}

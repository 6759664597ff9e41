import ArgumentParser
import VRRP

extension VRRPCommand {
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode",
            abstract: "Decode a VRRP packet given as hex: a whole IPv4 or IPv6 packet, as tcpdump -x prints it.",
            discussion: """
                The checksum is verified with the addresses from the IP header (for v3 over IPv4, with and
                without the pseudo-header), and every RFC 5798 discard rule that needs no configuration is
                applied. A discarded packet is an error naming the rule.

                Example:
                  labctl vrrp decode 45c00028000000 00ff70...   (spaces and colons are ignored)
                """)

        @Argument(help: "The packet in hex.") var hex: [String]
        @OptionGroup var output: OutputOptions

        struct Decoded: Encodable {
            let version: Int, virtualRouterID: UInt8, priority: UInt8, advertisementInterval: String
            let addresses: [String], source: String, destination: String, ttl: UInt8
        }

        func run() throws {
            let digits = hex.joined().filter { !" :\n\t".contains($0) }
            guard digits.count % 2 == 0, digits.allSatisfy(\.isHexDigit) else { throw LabError("not an even number of hex digits") }
            var bytes: [UInt8] = []
            var i = digits.startIndex
            while i < digits.endIndex {
                let next = digits.index(i, offsetBy: 2)
                bytes.append(UInt8(digits[i..<next], radix: 16)!)
                i = next
            }
            guard let ip = VRRPCodec.splitIPPacket(bytes) else { throw LabError("not an IPv4 or IPv6 packet of protocol 112 (VRRP)") }
            let ad: VRRPAdvertisement
            switch VRRPCodec.decode(ip.message, ttl: ip.ttl, source: ip.source, destination: ip.destination) {
            case .success(let decoded): ad = decoded
            case .failure(let reason): throw LabError("discarded: \(reason)")
            }
            let decoded = Decoded(version: ad.version.rawValue, virtualRouterID: ad.virtualRouterID, priority: ad.priority,
                                  advertisementInterval: ad.advertisementInterval.description, addresses: ad.addresses.map(\.description),
                                  source: ip.source.description, destination: ip.destination.description, ttl: ip.ttl)
            try output.emit(decoded) {
                print("VRRPv\(decoded.version) advertisement from \(decoded.source) to \(decoded.destination), TTL \(decoded.ttl)")
                print("  virtual router \(decoded.virtualRouterID), priority \(decoded.priority), interval \(decoded.advertisementInterval) s")
                print("  addresses: \(decoded.addresses.joined(separator: ", "))")
            }
        }
    }
}

import ArgumentParser
import VRRP

extension VRRPCommand {
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode",
            abstract: "Decode a VRRP packet given as hex (a whole IPv4 or IPv6 packet), or every VRRP packet of a capture.",
            discussion: """
                The checksum is verified with the addresses from the IP header (for v3 over IPv4, with and
                without the pseudo-header), and every RFC 5798 discard rule that needs no configuration is
                applied. A discarded packet is an error naming the rule.

                With --pcap, every IPv4/IPv6 packet of protocol 112 in a pcap or pcapng file (Ethernet,
                Linux cooked or raw IP) is listed with its capture time; a discarded one names the rule.

                Examples:
                  labctl vrrp decode 45c00028000000 00ff70...   (spaces and colons are ignored)
                  labctl vrrp decode --pcap capture.pcapng --json
                """)

        @Argument(help: "The packet in hex.") var hex: [String] = []
        @Option(help: "A pcap or pcapng file to decode instead.") var pcap: String?
        @OptionGroup var output: OutputOptions

        struct Decoded: Encodable {
            let version: Int, virtualRouterID: UInt8, priority: UInt8, advertisementInterval: String
            let addresses: [String], source: String, destination: String, ttl: UInt8
        }

        struct CapturedVRRP: Encodable {
            let time: String, source: String, destination: String, ttl: UInt8
            let advertisement: Decoded?, discarded: String?
        }

        func run() throws {
            if let pcap {
                guard hex.isEmpty else { throw LabError("give either hex or --pcap, not both") }
                return try decodeCapture(pcap)
            }
            guard !hex.isEmpty else { throw LabError("give a packet in hex, or --pcap FILE") }
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

        private func decodeCapture(_ path: String) throws {
            let bytes = try FileBytes.read(path, limit: 256 << 20)
            let packets: [CapturedPacket]
            do { packets = try PacketCapture.read(bytes) } catch { throw LabError("\(path): \(error)") }
            var out: [CapturedVRRP] = []
            for packet in packets {
                guard let ipBytes = packet.ipPacket, let ip = VRRPCodec.splitIPPacket(ipBytes) else { continue }
                let time = Microseconds(packet.timestamp).description
                switch VRRPCodec.decode(ip.message, ttl: ip.ttl, source: ip.source, destination: ip.destination) {
                case .success(let ad):
                    out.append(CapturedVRRP(time: time, source: ip.source.description, destination: ip.destination.description, ttl: ip.ttl,
                                            advertisement: Decoded(version: ad.version.rawValue, virtualRouterID: ad.virtualRouterID,
                                                                   priority: ad.priority, advertisementInterval: ad.advertisementInterval.description,
                                                                   addresses: ad.addresses.map(\.description), source: ip.source.description,
                                                                   destination: ip.destination.description, ttl: ip.ttl),
                                            discarded: nil))
                case .failure(let reason):
                    out.append(CapturedVRRP(time: time, source: ip.source.description, destination: ip.destination.description,
                                            ttl: ip.ttl, advertisement: nil, discarded: reason.description))
                }
            }
            try output.emit(out) {
                var table = TextTable(header: ["time", "source", "vrid", "priority", "interval", "addresses"])
                for p in out {
                    if let ad = p.advertisement {
                        table.add([p.time, p.source, "\(ad.virtualRouterID)", "\(ad.priority)", ad.advertisementInterval,
                                   ad.addresses.joined(separator: " ")])
                    } else {
                        table.add([p.time, p.source, "-", "-", "-", "discarded: \(p.discarded ?? "")"])
                    }
                }
                print(table.render())
            }
        }
    }
}

import Testing
@testable import WGNetlink

/// SET messages built with libmnl, split at a small size, and decoded back with the GET decoder
/// (the attribute layout is the same both ways).
struct NetlinkMessageTests {
    static func key(_ n: UInt8) -> Key { Key(bytes: [UInt8](repeating: n, count: 32))! }

    func messages(for config: DeviceConfig, capacity: Int) throws -> [[UInt8]] {
        var cursor = KernelWireGuard.SetCursor()
        var out: [[UInt8]] = []
        repeat {
            let m = NetlinkMessageBuilder(type: 30, flags: 1, sequence: 1, capacity: capacity)
            m.putHeader(UInt32(0))  // stands in for genlmsghdr (4 bytes)
            try KernelWireGuard.fill(m, name: "wg0", config: config, cursor: &cursor)
            out.append(Array(m.bytes.dropFirst(20)))
            #expect(out.count < 10_000)
        } while !cursor.done
        return out
    }

    @Test func bigSetsSplitAndMergeBack() throws {
        let many = (0..<3000).map { AllowedIP("10.\($0 >> 8).\($0 & 255).0/24")! }
        let config = DeviceConfig(listenPort: 51820, replacePeers: true, peers: [
            PeerConfig(publicKey: Self.key(1), endpoint: Endpoint(address: IPAddress("fe80::1")!, port: 51820, scopeID: 9),
                       persistentKeepalive: 25, replaceAllowedIPs: true, allowedIPs: [AllowedIP("192.0.2.0/24")!]),
            PeerConfig(publicKey: Self.key(2), replaceAllowedIPs: true, allowedIPs: many),
            PeerConfig(publicKey: Self.key(3), remove: true),
        ])
        let parts = try messages(for: config, capacity: 1024)
        #expect(parts.count > 20)
        var decoder = WireGuardDumpDecoder()
        var flagsSeen: [Key: Int] = [:]
        for part in parts {
            try part.withUnsafeBytes { raw in
                try decoder.add(attributes: raw)
                // Count how often each peer's flags attribute appears: once, in its first chunk.
                for a in try NetlinkAttributes(raw).all() where a.type == WGAttribute.Device.peers {
                    for p in try a.nested.all() {
                        let attrs = try p.nested.all()
                        let k = try attrs.first { $0.type == WGAttribute.Peer.publicKey }!.key()
                        flagsSeen[k, default: 0] += attrs.filter { $0.type == WGAttribute.Peer.flags }.count
                        #expect(a.isNested && p.isNested)
                    }
                }
            }
        }
        let d = decoder.device
        #expect(d.name == "wg0")
        #expect(d.listenPort == 51820)
        #expect(d.peers.map(\.publicKey) == [Self.key(1), Self.key(2), Self.key(3)])
        #expect(d.peers[0].endpoint == Endpoint(address: IPAddress("fe80::1")!, port: 51820, scopeID: 9))
        #expect(d.peers[1].allowedIPs == many)
        #expect(flagsSeen == [Self.key(1): 1, Self.key(2): 1, Self.key(3): 1])
    }

    /// The kernel continues a split peer first thing in the next message, but merging is by
    /// key: a peer that comes back after others (through the index, past its growth) merges too.
    @Test func peersMergeByKeyWhereverTheyReappear() throws {
        func key(_ n: Int) -> Key { Key(bytes: (0..<32).map { UInt8(truncatingIfNeeded: n >> (8 * ($0 % 4)) &+ $0) })! }
        let first = DeviceConfig(peers: (0..<1000).map { PeerConfig(publicKey: key($0), allowedIPs: [AllowedIP("10.0.\($0 >> 8).\($0 & 255)/32")!]) })
        let again = DeviceConfig(peers: [7, 999, 0, 500].map { PeerConfig(publicKey: key($0), allowedIPs: [AllowedIP("fd00::\($0 + 1)/128")!]) })
        var decoder = WireGuardDumpDecoder()
        for part in try messages(for: first, capacity: 4096) + messages(for: again, capacity: 4096) {
            try part.withUnsafeBytes { try decoder.add(attributes: $0) }
        }
        let peers = decoder.device.peers
        #expect(peers.map(\.publicKey) == (0..<1000).map(key))
        for n in [7, 999, 0, 500] {
            #expect(peers[n].allowedIPs.map(\.description) == ["10.0.\(n >> 8).\(n & 255)/32", "fd00::\(n + 1)/128"])
        }
        #expect(peers[1].allowedIPs.count == 1)
    }

    /// `show dump` from the kernel formats each peer as the dump arrives: a split peer is one
    /// line, and the text, in 64 KiB pieces, is the same as from the whole device.
    @Test func streamedDumpMatchesTheWholeDevice() throws {
        let many = (0..<5000).map { AllowedIP("10.\($0 >> 8).\($0 & 255).0/24")! }
        func peer(_ n: Int) -> PeerConfig {
            let endpoint: Endpoint? = n % 3 == 0 ? Endpoint(address: IPAddress("192.0.2.\(n)")!, port: 1000) : nil
            let allowed: [AllowedIP] = n == 7 || n == 40 ? many : [AllowedIP("10.9.0.\(n)/32")!]
            return PeerConfig(publicKey: Self.key(UInt8(n)), endpoint: endpoint, allowedIPs: allowed)
        }
        let config = DeviceConfig(privateKey: .set(Self.key(9)), listenPort: 51820, peers: (1...40).map(peer))
        let parts = try messages(for: config, capacity: 2048)
        var whole = WireGuardDumpDecoder()
        let streamed = Box(ShowFormat.DumpWriter(prefixInterface: true))
        var peerCount = 0
        var streaming = WireGuardDumpDecoder { device, peer in streamed.value.add(peer, of: device); peerCount += 1 }
        for part in parts {
            try part.withUnsafeBytes { raw in
                try whole.add(attributes: raw)
                try streaming.add(attributes: raw)
            }
        }
        streaming.finish()
        #expect(parts.count > 10)
        #expect(peerCount == 40)
        #expect(streaming.device.peers.isEmpty)
        let expected = ShowFormat.dump(whole.device, prefixInterface: true)
        let pieces = streamed.value.finishInPieces(streaming.device)
        #expect(pieces.count > 1)
        #expect(Array(pieces.joined()) == expected)
        #expect(String(decoding: expected, as: UTF8.self).split(separator: "\n").count == 41)
        // No peers: the interface's line alone.
        var empty = ShowFormat.DumpWriter()
        #expect(String(decoding: empty.finish(Device(name: "wg0", listenPort: 51820)), as: UTF8.self) == "(none)\t(none)\t51820\toff\n")
    }

    @Test func portIsBigEndianAndScopeHostEndian() throws {
        let bytes = KernelWireGuard.sockaddr(Endpoint(address: IPAddress("fe80::1")!, port: 0x1234, scopeID: 0x0102_0304)) { Array($0) }
        #expect(bytes[2] == 0x12 && bytes[3] == 0x34)
        #expect(Array(bytes[24..<28]) == [0x04, 0x03, 0x02, 0x01])
        let back = try bytes.withUnsafeBytes { try WireGuardDumpDecoder.endpoint($0) }
        #expect(back?.port == 0x1234 && back?.scopeID == 0x0102_0304)
    }

    @Test func malformedAttributesAreErrorsNotTraps() {
        for bytes: [UInt8] in [[1], [3, 0, 1, 0], [8, 0, 1, 0, 1], [255, 255, 8, 0, 0, 0, 0, 0], [12, 0, 8, 0x80, 8, 0, 0, 0x80, 4, 0, 5, 0]] {
            var decoder = WireGuardDumpDecoder()
            #expect(throws: NetlinkDecodeError.self) { try bytes.withUnsafeBytes { try decoder.add(attributes: $0) } }
        }
    }

    /// An rtnetlink link message: header, ifinfomsg (index, flags) and IFLA_IFNAME.
    static func linkMessage(type: UInt16, index: Int32, up: Bool, name: String) -> [UInt8] {
        var attribute = withUnsafeBytes(of: UInt16(4 + name.utf8.count + 1).littleEndian, Array.init) + withUnsafeBytes(of: UInt16(3).littleEndian, Array.init)
        attribute += Array(name.utf8) + [0]
        while attribute.count % 4 != 0 { attribute.append(0) }
        var info = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: index.littleEndian) { info.replaceSubrange(4..<8, with: $0) }
        withUnsafeBytes(of: UInt32(up ? 1 : 0).littleEndian) { info.replaceSubrange(8..<12, with: $0) }
        let length = UInt32(16 + info.count + attribute.count)
        var header = withUnsafeBytes(of: length.littleEndian, Array.init) + withUnsafeBytes(of: type.littleEndian, Array.init)
        header += [UInt8](repeating: 0, count: 10)
        return header + info + attribute
    }

    @Test("Link events: each link message in a datagram, in order; others and a truncated tail skipped")
    func linkEventsDecode() {
        let up = Self.linkMessage(type: 16, index: 7, up: true, name: "wg1")
        let address = Self.linkMessage(type: 20, index: 7, up: true, name: "not a link")  // RTM_NEWADDR
        let gone = Self.linkMessage(type: 17, index: 7, up: false, name: "wg1")
        let datagram = up + address + gone + Array(up.prefix(20))
        let events = datagram.withUnsafeBytes { LinkEvents.decode($0) }
        #expect(events == [.changed(NetworkLink(index: 7, name: "wg1", kind: nil, isUp: true, mtu: 0)),
                           .removed(NetworkLink(index: 7, name: "wg1", kind: nil, isUp: false, mtu: 0))])
        #expect(events.last?.link?.name == "wg1")
    }

    @Test("A datagram's messages in order, then the reason a truncated one stopped the walk")
    func messagesOfADatagram() {
        let first = Self.linkMessage(type: 16, index: 7, up: true, name: "wg1")
        let second = Self.linkMessage(type: 17, index: 8, up: false, name: "wg2")
        (first + second).withUnsafeBytes { bytes in
            var it = NetlinkMessages(bytes).makeIterator()
            #expect(it.next()?.message.count == first.count)
            #expect(it.next()?.header.nlmsg_type == 17)
            #expect(it.next() == nil && it.malformed == nil)
        }
        (first + second.prefix(20)).withUnsafeBytes { bytes in
            var it = NetlinkMessages(bytes).makeIterator()
            #expect(it.next()?.header.nlmsg_type == 16)
            #expect(it.next() == nil)
            #expect(it.malformed != nil)
        }
    }
}

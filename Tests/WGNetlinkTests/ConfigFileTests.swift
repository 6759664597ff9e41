import Testing
@testable import WGNetlink

struct ConfigFileTests {
    static let quick = """
        [Interface]
        # the server
        Address = 10.0.0.1/24, fd00::1/64
        ListenPort = 51800
        PrivateKey = YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI=
        MTU = 1380
        PostUp = ip route add 10.9.0.0/16 dev %i  # a comment
        SaveConfig = true

        [Peer]
        PublicKey = 3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=
        Allowed IPs = 10.0.0.2/32, fd00::2/128
        Endpoint = [2001:db8::1]:51800
        PersistentKeepalive = off
        """

    @Test func wgQuickFileParses() throws {
        let c = try ConfigFile.parse(Self.quick, file: "wg1.conf")
        #expect(c.interface.listenPort == 51800)
        #expect(c.interface.quick.addresses.map(\.description) == ["10.0.0.1/24", "fd00::1/64"])
        #expect(c.interface.quick.mtu == 1380)
        #expect(c.interface.quick.postUp == ["ip route add 10.9.0.0/16 dev %i"])
        #expect(c.interface.quick.saveConfig == true)
        #expect(c.peers.count == 1)
        #expect(c.peers[0].allowedIPs.count == 2)  // wg ignores white space inside keys, too
        #expect(c.peers[0].persistentKeepalive == 0)
        #expect(c.peers[0].endpoint == "[2001:db8::1]:51800")
    }

    @Test func wgDialectRefusesWgQuickKeysWithFileAndLine() {
        #expect { try ConfigFile.parse(Self.quick, file: "wg1.conf", dialect: .wg) } throws: { error in
            "\(error)" == "wg1.conf:3: 'Address' is a wg-quick key; run the file through 'labctl wg strip' first: `Address = 10.0.0.1/24, fd00::1/64`"
        }
    }

    @Test(arguments: [
        ("ListenPort = 1", "wg0.conf:1: 'ListenPort' outside any section: `ListenPort = 1`"),
        ("[Interface]\nListenPort = 70000", "wg0.conf:2: ListenPort must be 0 to 65535: `ListenPort = 70000`"),
        ("[Interface]\nFoo = bar", "wg0.conf:2: unknown key 'Foo' in [Interface]: `Foo = bar`"),
        ("[Peer]\nAllowedIPs = 10.0.0.0/8", "wg0.conf:1: this peer has no PublicKey: `[Peer]`"),
        ("[Peers]", "wg0.conf:1: unknown section: `[Peers]`"),
        ("[Peer]\nPublicKey = abc", "wg0.conf:2: PublicKey is not a base64 key: `PublicKey = abc`"),
        ("[Interface]\nnonsense", "wg0.conf:2: expected 'Key = Value': `nonsense`"),
    ])
    func errorsNameFileLineAndText(text: String, message: String) {
        #expect { try ConfigFile.parse(text, file: "wg0.conf") } throws: { "\($0)" == message }
    }

    @Test func stripDropsOnlyWgQuickInterfaceKeys() {
        let stripped = ConfigFile.strip(Self.quick)
        #expect(!stripped.contains("Address"))
        #expect(!stripped.contains("PostUp"))
        #expect(stripped.contains("# the server"))
        #expect(stripped.hasSuffix("PersistentKeepalive = off\n\n"))
    }

    @Test func renderedDeviceParsesBackToTheSameConfig() throws {
        let peer = Peer(publicKey: Key(base64: "3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=")!,
                        endpoint: Endpoint(address: IPAddress("192.0.2.1")!, port: 51800), persistentKeepalive: 25,
                        allowedIPs: [AllowedIP("10.0.0.2/32")!])
        let device = Device(name: "wg0", privateKey: Key(base64: "YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI=", secret: true),
                            listenPort: 51800, firewallMark: 0x20, peers: [peer])
        let text = ConfigFile.render(device)
        #expect(text == """
            [Interface]
            ListenPort = 51800
            FwMark = 0x20
            PrivateKey = YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI=

            [Peer]
            PublicKey = 3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=
            AllowedIPs = 10.0.0.2/32
            Endpoint = 192.0.2.1:51800
            PersistentKeepalive = 25

            """)
        let parsed = try ConfigFile.parse(text, file: "x", dialect: .wg)
        let config = try parsed.deviceConfig(replace: true) { (e: String) throws(ConfigError) -> Endpoint in Endpoint(e)! }
        #expect(config.replacePeers)
        #expect(config.firewallMark == 0x20)
        #expect(config.peers[0].replaceAllowedIPs)
        #expect(config.peers[0].presharedKey == .remove)
    }
}

struct UAPIProtocolTests {
    @Test func getReplyParsesAndDerivesThePublicKey() throws {
        let priv = Key(base64: "YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI=", secret: true)!
        let peer = Key(base64: "3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=")!
        let reply = "private_key=\(priv.hex)\nlisten_port=51820\npublic_key=\(peer.hex)\nendpoint=[fe80::1%7]:1\nlast_handshake_time_sec=5\nlast_handshake_time_nsec=6\nallowed_ip=10.0.0.0/8\nallowed_ip=::/0\nerrno=0\n\n"
        let d = try UAPIProtocol.parseGetReply(reply, device: "wg0")
        #expect(d.publicKey?.base64 == "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8=")
        #expect(d.peers.count == 1)
        #expect(d.peers[0].endpoint?.scopeID == 7)
        #expect(d.peers[0].lastHandshake == HandshakeTime(seconds: 5, nanoseconds: 6))
        #expect(d.peers[0].allowedIPs.count == 2)
    }

    @Test("A get reply read in pieces, cut anywhere, parses as the whole reply")
    func getReplyInPieces() throws {
        let priv = Key(base64: "YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI=", secret: true)!
        let peer = Key(base64: "3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=")!
        let reply = Array("private_key=\(priv.hex)\nlisten_port=51820\npublic_key=\(peer.hex)\nendpoint=1.2.3.4:5\nallowed_ip=10.0.0.0/8\nrx_bytes=7\nerrno=0\n\n".utf8)
        let whole = try UAPIProtocol.parseGetReply(String(decoding: reply, as: UTF8.self), device: "wg0")
        for size in [1, 2, 3, 7, 64, reply.count] {
            var reader = UAPIProtocol.GetReplyReader(device: "wg0")
            var done = false
            for start in stride(from: 0, to: reply.count, by: size) where !done {
                done = reply[start..<min(start + size, reply.count)].withUnsafeBufferPointer { reader.read($0, scopeIndex: { UInt32($0) }) }
            }
            #expect(done)
            #expect(try reader.finish(scopeIndex: { UInt32($0) }).get() == whole, "pieces of \(size) bytes")
        }
        // A bad line stops the reading at once.
        var reader = UAPIProtocol.GetReplyReader(device: "wg0")
        #expect(Array("listen_port=x\nerrno=0\n\n".utf8).withUnsafeBufferPointer { reader.read($0, scopeIndex: { _ in nil }) })
        #expect(throws: UAPIError.malformed("wg0: line 1: listen_port=x is not a number")) { try reader.finish(scopeIndex: { _ in nil }).get() }
    }

    /// `wg show dump` through the UAPI formats each peer as the reply is read and keeps none; the
    /// interface's line still comes first when the device's fields come after the peers.
    @Test("A dump formatted peer by peer from a get reply prints what the whole device prints")
    func dumpPeerByPeer() throws {
        let priv = Key(base64: "YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI=", secret: true)!
        let peers = ["3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=", "4NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg="]
            .map { Key(base64: $0)!.hex }
        let first = "public_key=\(peers[0])\nendpoint=[fe80::1%3]:5\nallowed_ip=10.0.0.0/8\nallowed_ip=::/0\n"
        let second = "public_key=\(peers[1])\npersistent_keepalive_interval=25\nrx_bytes=9\n"
        let deviceLines = "private_key=\(priv.hex)\nlisten_port=51820\nfwmark=7\n"
        for reply in [deviceLines + first + second + "errno=0\n\n", first + deviceLines + second + "errno=0\n\n"] {
            let whole = try UAPIProtocol.parseGetReply(reply, device: "wg0")
            for prefixInterface in [false, true] {
                var writer = ShowFormat.DumpWriter(prefixInterface: prefixInterface)
                var reader = UAPIProtocol.GetReplyReader(device: "wg0") { writer.addPeer($0, deviceName: "wg0") }
                _ = Array(reply.utf8).withUnsafeBufferPointer { reader.read($0, scopeIndex: { UInt32($0) }) }
                let device = try reader.finish(scopeIndex: { UInt32($0) }).get()
                #expect(device.peers.isEmpty)
                #expect(Array(writer.finishInPieces(device).joined()) == ShowFormat.dump(whole, prefixInterface: prefixInterface))
            }
        }
    }

    @Test("The set request streamed in small pieces is the whole request")
    func setRequestInPieces() {
        let peers = (0..<40).map { i in
            PeerConfig(publicKey: Key(bytes: [UInt8](repeating: UInt8(i), count: 32))!, replaceAllowedIPs: true,
                       allowedIPs: (0..<(i % 5)).map { AllowedIP("10.\(i).\($0).0/24")! })
        }
        let config = DeviceConfig(listenPort: 51820, replacePeers: true, peers: peers)
        var pieces: [[UInt8]] = []
        UAPIProtocol.writeSetRequest(config, pieceSize: 100) { pieces.append(Array($0)); return true }
        #expect(pieces.count > 10)
        #expect(String(decoding: pieces.joined(), as: UTF8.self) == UAPIProtocol.setRequest(config))
        var sent = 0
        UAPIProtocol.writeSetRequest(config, pieceSize: 100) { _ in sent += 1; return sent < 3 }
        #expect(sent == 3)  // stops when the implementation stops reading
    }

    @Test func errnoAndMalformedReplies() {
        #expect(throws: UAPIError.status(device: "wg0", errno: 22)) { try UAPIProtocol.parseSetReply("errno=-22\n\n", device: "wg0") }
        #expect(throws: UAPIError.self) { try UAPIProtocol.parseGetReply("listen_port=1\n\n", device: "wg0") }
        #expect(throws: UAPIError.self) { try UAPIProtocol.parseGetReply("endpoint=1.2.3.4:5\nerrno=0\n\n", device: "wg0") }
    }

    @Test("A preshared key is cleared only where a peer may have one: not under replace_peers")
    func presharedKeyRemovalOnlyWhereItMatters() {
        let key = Key(base64: "3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=")!
        let peer = PeerConfig(publicKey: key, presharedKey: .remove, persistentKeepalive: 0)
        let replacing = UAPIProtocol.setRequest(DeviceConfig(replacePeers: true, peers: [peer]))
        let syncing = UAPIProtocol.setRequest(DeviceConfig(replacePeers: false, peers: [peer]))
        #expect(!replacing.contains("preshared_key=") && !replacing.contains("persistent_keepalive_interval="))
        #expect(syncing.contains("preshared_key=\(String(repeating: "0", count: 64))\n"))
        #expect(syncing.contains("persistent_keepalive_interval=0\n"))
    }

    /// wireguard-go carries a peer's "keepalive turned on" into the next peers of the request
    /// (ipcSetPeer.pkaOn) unless their own line resets it, so after the first keepalive every peer
    /// says its own, 0 included; before it, fresh peers under replace_peers leave 0 out as wg does.
    @Test("Keepalive 0 is said under replace_peers once an earlier peer turned a keepalive on")
    func keepaliveZeroAfterAKeepaliveOnly() {
        let keys = (1...5).map { Key(bytes: [UInt8](repeating: UInt8($0), count: 32))! }
        let keepalives: [UInt16?] = [0, 25, 0, nil, 0]
        let peers = zip(keys, keepalives).map { PeerConfig(publicKey: $0, persistentKeepalive: $1) }
        let lines = UAPIProtocol.setRequest(DeviceConfig(replacePeers: true, peers: peers))
            .split(separator: "\n").filter { $0.hasPrefix("public_key=") || $0.hasPrefix("persistent_keepalive_interval=") }
        #expect(lines.map { $0.hasPrefix("public_key=") ? "peer" : String($0.dropFirst(30)) }
                == ["peer", "peer", "25", "peer", "0", "peer", "peer", "0"])
    }

    @Test func setRequestCarriesEveryFlag() {
        let key = Key(base64: "3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=")!
        let config = DeviceConfig(privateKey: .remove, listenPort: 0, replacePeers: true, peers: [
            PeerConfig(publicKey: key, updateOnly: true, persistentKeepalive: 25, replaceAllowedIPs: true, allowedIPs: [AllowedIP("10.0.0.0/8")!]),
            PeerConfig(publicKey: key, remove: true),
        ])
        #expect(UAPIProtocol.setRequest(config) == """
            set=1
            private_key=\(String(repeating: "0", count: 64))
            listen_port=0
            replace_peers=true
            public_key=\(key.hex)
            update_only=true
            persistent_keepalive_interval=25
            replace_allowed_ips=true
            allowed_ip=10.0.0.0/8
            public_key=\(key.hex)
            remove=true


            """)
    }
}

import Foundation
import Testing
import WGNetlink

/// Configuration files in `wg showconf` layout, so the kernel's read-back can be compared byte for byte.
enum WireGuardFixtures {
    /// Deterministic keys from a seed.
    struct KeySource {
        var state: UInt64
        mutating func next(secret: Bool = false) -> Key {
            var bytes: [UInt8] = []
            for _ in 0..<4 {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                bytes += withUnsafeBytes(of: z) { Array($0) }
            }
            return secret ? Key(secretBytes: bytes)! : Key(bytes: bytes)!
        }
    }

    static func device(peers: Int, allowedIPsPerPeer: Int = 2, seed: UInt64) -> Device {
        var keys = KeySource(state: seed)
        // The kernel clamps private keys, so the fixture holds a clamped one.
        var secret = keys.next().bytes
        secret[0] &= 248
        secret[31] = (secret[31] & 127) | 64
        let privateKey = Key(secretBytes: secret)!
        var device = Device(name: "wg", privateKey: privateKey, listenPort: 51820, firewallMark: seed % 2 == 0 ? 0 : 0x1234)
        for i in 0..<peers {
            var ips: [AllowedIP] = []
            if allowedIPsPerPeer > 2 {
                for j in 0..<allowedIPsPerPeer { ips.append(AllowedIP("10.\(j >> 16 & 255).\(j >> 8 & 255).\(j & 255)/32")!) }
            } else {
                ips.append(AllowedIP("10.\(i >> 8 & 255).\(i & 255).0/24")!)
                ips.append(AllowedIP("fd00::\(String(i, radix: 16)):0/112")!)
            }
            let endpoint: Endpoint? = i % 3 == 0 ? nil : i % 3 == 1
                ? Endpoint(address: IPAddress("192.0.2.\(i % 250 + 1)")!, port: UInt16(1000 + i % 60000))
                : Endpoint(address: IPAddress("2001:db8::\(String(i, radix: 16))")!, port: 51820)
            device.peers.append(Peer(publicKey: keys.next(), presharedKey: i % 4 == 0 ? keys.next(secret: true) : nil,
                                     endpoint: endpoint, persistentKeepalive: i % 5 == 0 ? 25 : 0, allowedIPs: ips))
        }
        return device
    }

    /// Writes every fixture wg.sh uses into `directory`.
    static func write(to directory: String) throws {
        func save(_ name: String, _ text: String) throws {
            try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let small = device(peers: 6, seed: 1)
        try save("small.conf", ConfigFile.render(small))
        try save("big.conf", ConfigFile.render(device(peers: 5000, seed: 2)))
        try save("wide.conf", ConfigFile.render(device(peers: 1, allowedIPsPerPeer: 100_000, seed: 3)))
        // By the syncconf step, wg.sh has removed peer 0 and the private key, moved an allowed IP to
        // peer 1 and added a runtime-only peer. The file drops the last peer and changes the port;
        // afterwards the device must read back as exactly this file.
        var synced = small
        synced.privateKey = nil
        synced.peers.removeFirst()
        synced.peers.removeLast()
        synced.listenPort = 51821
        try save("sync.conf", ConfigFile.render(synced))
        try save("add.conf", "[Peer]\nPublicKey = \(device(peers: 1, seed: 9).peers[0].publicKey.base64)\nAllowedIPs = 10.250.0.0/16\n")
        try save("wgq0.conf", "[Interface]\nAddress = 10.9.0.1/24, fd09::1/64\nMTU = 1380\nListenPort = 51909\nPrivateKey = \(small.privateKey!.base64)\nPostUp = echo up # a hook labctl does not run\n\n" + ConfigFile.render(small).split(separator: "\n", omittingEmptySubsequences: false).drop { !$0.hasPrefix("[Peer]") }.joined(separator: "\n"))
        try save("bad.conf", "[Interface]\nListenPort = 4000\n\n[Peer]\nPublicKey = \(small.peers[0].publicKey.base64)\nAllowedIPs = 10.1.0.0/16\nAllowedIPs = 10.1.0.0/33\n")
    }
}

/// One boot of Debian's kernel for every kernel WireGuard scenario (Tests/labctlTests/VM/wg.sh).
@Suite struct WireGuardKernelTests {
    @Test func labctlAndWgAgreeBothWaysAgainstTheKernel() throws {
        // Kept in .cache/vm so that a failure can be replayed by hand.
        let fixtures = packageRoot.appendingPathComponent(".cache/vm/wg-fixtures").path
        try? FileManager.default.removeItem(atPath: fixtures)
        try WireGuardFixtures.write(to: fixtures)
        let script = packageRoot.appendingPathComponent("Tests/labctlTests/VM/wg.sh").path
        let r = try run(packageRoot.appendingPathComponent("scripts/vm/run").path,
                        ["-f", "\(fixtures):/test/wg", "-t", "900", script],
                        environment: ["LABCTL": labctlPath])
        // The guest's transcript, with the time of each step, for a person to read.
        try? r.stdout.write(to: packageRoot.appendingPathComponent(".cache/vm/wg.log"), atomically: true, encoding: .utf8)
        #expect(r.status == 0, "vm/run: \(r.stdout.suffix(3000))\n\(r.stderr.suffix(2000))")
        for step in ["pubkey", "labctl setconf big, wg showconf", "wg setconf wide, labctl show dump",
                     "IPv6 endpoint with scope id", "allowed IP moved", "peer removed by key",
                     "private key removed", "syncconf", "errors", "wg up and down"] {
            #expect(r.stdout.contains("ok: \(step)"), "missing step: \(step)")
        }
    }
}

import Foundation
import Testing
import WGNetlink

/// wireguard-go on the host, reached through its UAPI socket: the same cross-checks as the kernel
/// scenarios, with labctl choosing the userspace backend because the host kernel has no WireGuard.
@Suite(.serialized) struct WireGuardUserspaceTests {
    /// Starts `wireguard-go NAME` in the foreground (in network namespace `namespace`, if given)
    /// and stops it when dropped.
    final class WireGuardGo {
        let name: String
        let process = Process()

        init(_ suffix: String, namespace: String? = nil) throws {
            name = "lt\(getpid() % 100_000)\(suffix)"
            // `ip netns exec` execs wireguard-go: the process is wireguard-go itself.
            process.executableURL = URL(fileURLWithPath: namespace == nil ? "/usr/bin/wireguard-go" : "/usr/sbin/ip")
            process.arguments = namespace.map { ["netns", "exec", $0, "/usr/bin/wireguard-go", name] } ?? [name]
            process.environment = ["WG_PROCESS_FOREGROUND": "1", "LOG_LEVEL": "error"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let socket = UserspaceWireGuard.socketPath(for: name)
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(50_000) }
            #expect(FileManager.default.fileExists(atPath: socket), "wireguard-go did not create \(socket)")
        }

        deinit {
            // SIGKILL: on SIGTERM wireguard-go removes its peers one by one, which takes
            // minutes with thousands of them.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: UserspaceWireGuard.socketPath(for: name))
        }
    }

    static func fixtures() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("labctl-wg-fixtures-\(getpid())").path
        if !FileManager.default.fileExists(atPath: dir + "/big.conf") { try WireGuardFixtures.write(to: dir) }
        return dir
    }

    /// wireguard-go lists peers in map order, different on every read: compare peer blocks
    /// (showconf, human show) or peer lines (dump, fields) as sets, the interface part exactly.
    static func normalized(_ text: String, blocks: Bool, header: Bool = true) -> [String] {
        // wireguard-go starts handshakes with peers that have endpoints, so byte counters move
        // between two reads; the kernel scenarios check them exactly.
        let text = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("  transfer:") { return "  transfer: (moves)" }
            var fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if fields.count == 9 { fields[5] = "rx"; fields[6] = "tx" }
            if fields.count == 3, fields[1].allSatisfy(\.isNumber), fields[2].allSatisfy(\.isNumber) { fields[1] = "rx"; fields[2] = "tx" }
            return fields.joined(separator: "\t")
        }.joined(separator: "\n")
        if blocks {
            let parts = text.components(separatedBy: "\n\n")
            return [parts[0]] + parts.dropFirst().map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.sorted()
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return header ? [lines[0]] + lines.dropFirst().sorted() : lines.sorted()
    }

    /// The same texts, or a short note on the first difference (never the whole text).
    static func sameSets(_ a: [String], _ b: [String]) -> Comment? {
        if a == b { return nil }
        let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        return "\(a.count) vs \(b.count) entries; first difference at \(i): '\(i < a.count ? a[i].prefix(120) : "")' vs '\(i < b.count ? b[i].prefix(120) : "")'"
    }

    @Test(arguments: ["small.conf", "big.conf"])
    func labctlSetsAndWgReadsBack(conf: String) throws {
        let wgGo = try WireGuardGo("a")
        let dir = try Self.fixtures()
        let set = try labctl("wg", "setconf", wgGo.name, "\(dir)/\(conf)")
        #expect(set.status == 0, "\(set.stderr)")
        let theirs = try run("/usr/bin/wg", ["showconf", wgGo.name])
        let file = try String(contentsOfFile: "\(dir)/\(conf)", encoding: .utf8)
        let note = Self.sameSets(Self.normalized(theirs.stdout, blocks: true), Self.normalized(file, blocks: true))
        #expect(note == nil, "wg showconf after labctl setconf \(conf): \(note ?? "")")
        let ours = Self.sameSets(Self.normalized(try labctl("wg", "showconf", wgGo.name).stdout, blocks: true), Self.normalized(file, blocks: true))
        #expect(ours == nil, "labctl showconf \(conf): \(ours ?? "")")
    }

    /// wg sets (small: `wg setconf` against wireguard-go takes minutes for 5,000 peers, see
    /// BENCHMARKS.md; big: labctl sets), and labctl prints every field as wg does.
    @Test(arguments: ["small.conf", "big.conf"])
    func labctlPrintsWhatWgPrints(conf: String) throws {
        let wgGo = try WireGuardGo("b")
        let dir = try Self.fixtures()
        let setter = conf == "small.conf" ? try run("/usr/bin/wg", ["setconf", wgGo.name, "\(dir)/\(conf)"])
                                          : try labctl("wg", "setconf", wgGo.name, "\(dir)/\(conf)")
        #expect(setter.status == 0)
        for field in ["dump", "endpoints", "allowed-ips", "preshared-keys", "persistent-keepalive", "peers", "public-key", "listen-port", "fwmark", "transfer", "latest-handshakes"] {
            let want = try run("/usr/bin/wg", ["show", wgGo.name, field]).stdout
            let got = try labctl("wg", "show", wgGo.name, field).stdout
            let header = field == "dump"
            let note = Self.sameSets(Self.normalized(got, blocks: false, header: header), Self.normalized(want, blocks: false, header: header))
            #expect(note == nil, "show \(field) (\(conf)): \(note ?? "")")
        }
        let pretty = try labctl("wg", "show", wgGo.name).stdout
        let note = Self.sameSets(Self.normalized(pretty, blocks: true), Self.normalized(try run("/usr/bin/wg", ["show", wgGo.name]).stdout, blocks: true))
        #expect(note == nil, "show (\(conf)): \(note ?? "")")
    }

    @Test func singleChangesThroughUAPI() throws {
        let wgGo = try WireGuardGo("c")
        let dir = try Self.fixtures()
        #expect(try labctl("wg", "setconf", wgGo.name, "\(dir)/small.conf").status == 0)
        let peers = try run("/usr/bin/wg", ["show", wgGo.name, "peers"]).stdout.split(separator: "\n").map(String.init)
        // Remove by key, move an allowed IP, incremental change, private key removal.
        #expect(try labctl("wg", "set", wgGo.name, "peer", peers[0], "remove").status == 0)
        let moved = try run("/usr/bin/wg", ["show", wgGo.name, "allowed-ips"]).stdout
            .split(separator: "\n").first { $0.hasPrefix(peers[1]) }!.split(separator: "\t")[1].split(separator: " ")[0]
        #expect(try labctl("wg", "set", wgGo.name, "peer", peers[2], "allowed-ips", "+\(moved)").status == 0)
        #expect(try labctl("wg", "set", wgGo.name, "private-key", "/dev/null").status == 0)
        let dump = try run("/usr/bin/wg", ["show", wgGo.name, "dump"]).stdout
        #expect(!dump.contains(peers[0]))
        #expect(dump.split(separator: "\n")[0].hasPrefix("(none)\t(none)\t"))
        let allowed = try run("/usr/bin/wg", ["show", wgGo.name, "allowed-ips"]).stdout
        #expect(allowed.split(separator: "\n").first { $0.hasPrefix(peers[2]) }!.contains(moved))
        #expect(!allowed.split(separator: "\n").first { $0.hasPrefix(peers[1]) }!.contains(moved))
        #expect(Self.normalized(try labctl("wg", "show", wgGo.name, "dump").stdout, blocks: false) == Self.normalized(dump, blocks: false))
        // syncconf drops the runtime-only peer.
        let extra = try labctl("wg", "pubkey", input: try labctl("wg", "genkey").stdout).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try run("/usr/bin/wg", ["set", wgGo.name, "peer", extra, "allowed-ips", "10.77.0.0/16"]).status == 0)
        #expect(try labctl("wg", "syncconf", wgGo.name, "\(dir)/small.conf").status == 0)
        #expect(Self.normalized(try run("/usr/bin/wg", ["showconf", wgGo.name]).stdout, blocks: true)
                == Self.normalized(try String(contentsOfFile: "\(dir)/small.conf", encoding: .utf8), blocks: true))
    }

    @Test func errorsAreClear() throws {
        let wgGo = try WireGuardGo("d")
        #expect(try labctl("wg", "show", "interfaces").stdout.contains(wgGo.name))
        let missing = try labctl("wg", "show", "nosuch0")
        #expect(missing.status != 0)
        #expect(missing.stderr == "labctl: error: no such device: nosuch0\n")
        let bad = try labctl("wg", "setconf", "nosuch0", "/nonexistent.conf")
        #expect(bad.stderr == "labctl: error: /nonexistent.conf: No such file or directory\n")
    }

    /// `labctl wg strip` prints what `wg-quick strip` prints.
    @Test func stripMatchesWgQuick() throws {
        let scratch = try ScratchDirectory()
        let file = scratch.path + "/wg7.conf"
        try """
            [Interface]
              Address = 10.0.0.1/24
            PrivateKey = YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI=   # key
            PostUp = iptables -A FORWARD -i %i -j ACCEPT
            DNS = 1.1.1.1
            Table = off
            ListenPort = 51820

            [Peer]
            # laptop
            PublicKey = 3NGl6gTOGs6ai0RE91VmVFgF+N4gw1EBG11KOeiKJAg=
            AllowedIPs = 10.0.0.2/32
            """.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let theirs = try run("/usr/bin/wg-quick", ["strip", file])
        #expect(theirs.status == 0, "\(theirs.stderr)")
        let ours = try labctl("wg", "strip", file)
        #expect(ours.stdout == theirs.stdout)
    }
}

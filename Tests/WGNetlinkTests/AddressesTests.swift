import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import WGNetlink

struct AddressesTests {
    @Test func prefixesParseAndPrintLikeWg() {
        #expect(AllowedIP("10.0.0.1/24")?.description == "10.0.0.1/24")
        #expect(AllowedIP("10.0.0.1/24")?.canonical.description == "10.0.0.0/24")
        #expect(AllowedIP("10.0.0.1")?.prefixLength == 32)
        #expect(AllowedIP("fd00:0:0::1/64")?.description == "fd00::1/64")
        #expect(AllowedIP("fd00::1/64")?.canonical.description == "fd00::/64")
        #expect(AllowedIP("::/0")?.description == "::/0")
        for bad in ["10.0.0.1/33", "fd00::/129", "10.0.0/8", "10.0.0.1/", "/8", "10.0.0.1/+8", "host/8", ""] {
            #expect(AllowedIP(bad) == nil, "\(bad)")
        }
    }

    /// The dump prints addresses without inet_ntop(3); every zero-run shape, the dotted IPv4
    /// forms glibc keeps, and random words must come out exactly as glibc prints them.
    @Test func addressesPrintExactlyAsInetNtop() {
        func ntop(_ bytes: [UInt8]) -> String {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(bytes.count == 4 ? AF_INET : AF_INET6, bytes, &text, socklen_t(text.count))
            return String(cString: text)
        }
        var cases: [[UInt8]] = [[0, 0, 0, 0], [255, 255, 255, 255], [10, 0, 100, 7], [192, 0, 2, 1]]
        // Each group zero or not (all 256 patterns), with the non-zero groups drawn from small
        // and large values; plus the IPv4-compatible and -mapped forms and their near misses.
        var seed: UInt64 = 1
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        for pattern in 0..<256 {
            var bytes: [UInt8] = []
            for group in 0..<8 {
                let value: UInt16 = pattern >> group & 1 == 0 ? 0 : [1, 0xF, 0x10, 0xFFFF, 0xABC, UInt16(truncatingIfNeeded: next())][Int(next() % 6)]
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            cases.append(bytes)
        }
        let v4 = [UInt8]([192, 0, 2, 33])
        cases += [[UInt8](repeating: 0, count: 12) + v4, [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + v4,
                  [UInt8](repeating: 0, count: 10) + [0xFF, 0xFE] + v4, [UInt8](repeating: 0, count: 15) + [1],
                  [UInt8](repeating: 0, count: 14) + [0, 2], [0, 1] + [UInt8](repeating: 0, count: 10) + v4]
        for bytes in cases {
            #expect(IPAddress(bytes: bytes)?.description == ntop(bytes), "\(bytes)")
        }
    }

    /// IPv4 is parsed without inet_pton(3) now; it must accept and reject the same texts.
    @Test func addressesParseExactlyAsInetPton() {
        let texts = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "10.0.100.7", "01.2.3.4", "1.2.3.04", "1.2.3.0", "1.2.3",
                     "1.2.3.4.", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1..2.3", ".1.2.3", "1.2.3.4 ", " 1.2.3.4", "",
                     "0x1.2.3.4", "1.2.3.-4", "1.2.3.+4", "00.0.0.0", "1.2.3.4/8", "::", "::1", "fe80::1", "2001:db8::1.2.3.4",
                     "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", ":::", "fe80::1%eth0", "g::1"]
        for text in texts {
            var raw = [UInt8](repeating: 0, count: 16)
            let v6 = text.contains(":")
            let expected = inet_pton(v6 ? AF_INET6 : AF_INET, text, &raw) == 1 ? IPAddress(bytes: raw.prefix(v6 ? 16 : 4)) : nil
            #expect(IPAddress(text) == expected, "\(text)")
        }
    }

    @Test(arguments: ["192.0.2.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "fe80::1:2:3:4", "::"])
    func bytesAreLentInNetworkOrder(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.withUnsafeBytes { Array($0) } == address.bytes)
        #expect(address.withUnsafeBytes { IPAddress(bytes: $0) } == address)
    }

    @Test func endpointsWithScopeIDs() throws {
        let e = try #require(Endpoint("[fe80::1%eth0]:51820", scopeIndex: { $0 == "eth0" ? 3 : nil }))
        #expect(e.scopeID == 3)
        #expect(e.formatted(scopeName: { $0 == 3 ? "eth0" : nil }) == "[fe80::1%eth0]:51820")
        #expect(e.formatted(scopeName: { _ in nil }) == "[fe80::1%3]:51820")
        // glibc names only link-local scopes; a global address shows the number.
        #expect(Endpoint(address: IPAddress("2001:db8::1")!, port: 1, scopeID: 3).formatted(scopeName: { _ in "eth0" }) == "[2001:db8::1%3]:1")
        #expect(Endpoint("192.0.2.1:65535")?.description == "192.0.2.1:65535")
        for bad in ["192.0.2.1", "192.0.2.1:65536", "[fe80::1:51820", "fe80::1:51820", "[fe80::1%nope]:1", "[192.0.2.1]:1", ":1",
                    "192.0.2.1:", "192.0.2.1:+1", "192.0.2.1:123456", "[]:1", "[:1", "[fe80::1%]:1", "192.0.2.1:1 "] {
            #expect(Endpoint(bad, scopeIndex: { _ in nil }) == nil, "\(bad)")
        }
    }
}

struct SetArgumentsTests {
    let key = "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8="

    func parse(_ words: [String], files: [String: String] = [:]) throws(SetArguments.Failure) -> DeviceConfig {
        try SetArguments.parse(words, readKeyFile: { path throws(SetArguments.Failure) in
            guard let text = files[path] else { throw SetArguments.Failure(description: "\(path): missing") }
            return text
        }, resolveEndpoint: { text throws(SetArguments.Failure) in
            guard let e = Endpoint(text) else { throw SetArguments.Failure(description: "bad endpoint") }
            return e
        })
    }

    @Test func grammarOfWgSet() throws {
        let c = try parse(["listen-port", "51820", "fwmark", "off", "private-key", "/k", "peer", key, "allowed-ips", "10.0.0.0/8,fd00::/64",
                           "endpoint", "192.0.2.1:1", "persistent-keepalive", "25", "preshared-key", "/dev/null", "peer", key, "remove"],
                          files: ["/k": "YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI=\n", "/dev/null": ""])
        #expect(c.listenPort == 51820)
        #expect(c.firewallMark == 0)
        #expect(c.privateKey != nil && c.privateKey != .remove)
        #expect(c.peers.count == 2)
        #expect(c.peers[0].replaceAllowedIPs)
        #expect(c.peers[0].allowedIPs.map(\.description) == ["10.0.0.0/8", "fd00::/64"])
        #expect(c.peers[0].presharedKey == .remove)
        #expect(c.peers[0].persistentKeepalive == 25)
        #expect(c.peers[1].remove)
    }

    @Test func incrementalAllowedIPsAndEmptyList() throws {
        let c = try parse(["peer", key, "allowed-ips", "+10.0.0.0/8,-fd00::/64"])
        #expect(!c.peers[0].replaceAllowedIPs)
        #expect(c.peers[0].allowedIPs.map(\.description) == ["10.0.0.0/8"])
        #expect(c.peers[0].removedAllowedIPs.map(\.description) == ["fd00::/64"])
        let empty = try parse(["peer", key, "allowed-ips", ""])
        #expect(empty.peers[0].replaceAllowedIPs && empty.peers[0].allowedIPs.isEmpty)
    }

    @Test(arguments: [["listen-port"], ["listen-port", "70000"], ["bogus"], ["peer", "nokey"], ["peer", "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8=", "listen-port", "1"],
                      ["peer", "XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8=", "allowed-ips", "10.0.0.0/40"], ["private-key", "/missing"]])
    func badArgumentsAreOneLineErrors(words: [String]) {
        #expect(throws: SetArguments.Failure.self) { try parse(words) }
    }
}

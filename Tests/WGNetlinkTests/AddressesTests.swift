import Testing
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

    @Test func endpointsWithScopeIDs() throws {
        let e = try #require(Endpoint("[fe80::1%eth0]:51820", scopeIndex: { $0 == "eth0" ? 3 : nil }))
        #expect(e.scopeID == 3)
        #expect(e.formatted(scopeName: { $0 == 3 ? "eth0" : nil }) == "[fe80::1%eth0]:51820")
        #expect(e.formatted(scopeName: { _ in nil }) == "[fe80::1%3]:51820")
        // glibc names only link-local scopes; a global address shows the number.
        #expect(Endpoint(address: IPAddress("2001:db8::1")!, port: 1, scopeID: 3).formatted(scopeName: { _ in "eth0" }) == "[2001:db8::1%3]:1")
        #expect(Endpoint("192.0.2.1:65535")?.description == "192.0.2.1:65535")
        for bad in ["192.0.2.1", "192.0.2.1:65536", "[fe80::1:51820", "fe80::1:51820", "[fe80::1%nope]:1", "[192.0.2.1]:1", ":1"] {
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

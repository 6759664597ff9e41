import ArgumentParser
import Testing
@testable import labctl

/// The start-up path must take a command line exactly as the full parser does, or leave it alone.
struct QuickStartTests {
    @Test(arguments: [
        ["device"],
        ["device", "--json"],
        ["device", "report"],
        ["device", "--dump", "d.tar.gz"],
        ["device", "--dump=d.tar.gz", "--json"],
        ["device", "report", "--json", "--root", "/mnt/dump"],
        ["device", "--example", "netgear-m5"],
        ["device", "cpu"],
        ["device", "cpu", "--dump", "d.tar.gz"],
        ["device", "--root", "/r", "--dump", "d.tar.gz"],  // parsed; run() reports the conflict
        ["wg", "show"],
        ["wg", "show", "all"],
        ["wg", "show", "interfaces"],
        ["wg", "show", "wg0"],
        ["wg", "show", "wg0", "dump"],
        ["wg", "show", "all", "endpoints"],
        ["wg", "show", "wg0", "--json"],
        ["wg", "show", "--json", "wg0", "dump"],
        ["wg", "show", "wg0", "bogus-field"],  // parsed; run() names the bad field
        ["wg", "showconf", "wg0"],
        ["wg", "setconf", "wg0", "wg0.conf"],
        ["wg", "addconf", "wg0", "/etc/wireguard/peers.conf"],
        ["wg", "syncconf", "wg0", "wg0.conf"],
    ])
    func takesWhatTheFullParserParsesTheSameWay(arguments: [String]) throws {
        let quick = try #require(QuickStart(arguments: arguments))
        let parsed = try LabCtl.parseAsRoot(arguments)
        #expect(QuickStart(parsed: parsed) == quick)
    }

    @Test(arguments: [
        [],
        ["--version"],
        ["--help"],
        ["device", "--help"],
        ["device", "-h"],
        ["device", "help"],
        ["device", "capture", "x.tar.gz"],
        ["device", "report", "cpu"],
        ["device", "--example", "netgear-m5", "report"],
        ["device", "--json", "cpu"],
        ["device", "extra"],
        ["wg", "--json", "show"],
        ["device", "--dump"],
        ["device", "--dump", "--json"],
        ["device", "--dump", ""],
        ["device", "--dump", "a", "--dump", "b"],
        ["device", "--json", "--json"],
        ["device", "--root"],
        ["device", "--verbose"],
        ["device", "--", "report"],
        ["wg"],
        ["wg", "genkey"],
        ["wg", "show", "wg0", "dump", "extra"],
        ["wg", "show", "--dump", "x"],
        ["wg", "show", "-h"],
        ["wg", "show", "help"],
        ["wg", "showconf"],
        ["wg", "showconf", "wg0", "wg1"],
        ["wg", "showconf", "wg0", "--json"],
        ["wg", "set", "wg0", "listen-port", "1"],
        ["wg", "setconf", "wg0"],
        ["wg", "setconf", "wg0", "-"],  // stdin: taken by the full parser
        ["wg", "addconf", "wg0", "a.conf", "b.conf"],
        ["wg", "syncconf", "wg0", "a.conf", "--json"],
        ["vrrp", "timers"],
        ["paging", "addresses"],
        ["lab", "tour"],
    ])
    func leavesEverythingElseToTheFullParser(arguments: [String]) {
        #expect(QuickStart(arguments: arguments) == nil)
    }
}

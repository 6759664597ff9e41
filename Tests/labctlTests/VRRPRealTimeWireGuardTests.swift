import Foundation
import Testing

/// The speaker with `vrrp_rt_priority` and a `wireguard` section, driving wireguard-go with 5,000
/// peers in a network namespace. Its WireGuard checks must run at normal scheduling: under
/// SCHED_RR, reading a dump that big without blocking overruns RLIMIT_RTTIME (10 ms) and the
/// kernel kills the speaker (it did, at the first check, before they ran so).
@Suite struct VRRPRealTimeWireGuardTests {
    @Test func realTimeSpeakerDrivesADeviceWithThousandsOfPeers() throws {
        let ns = "lt\(getpid() % 100_000)rt"
        let ip = "/usr/sbin/ip"
        for args in [["netns", "add", ns], ["-n", ns, "link", "set", "lo", "up"],
                     ["-n", ns, "link", "add", "e0", "type", "veth", "peer", "name", "e1"],
                     ["-n", ns, "link", "set", "e0", "up"], ["-n", ns, "link", "set", "e1", "up"],
                     ["-n", ns, "addr", "add", "192.0.2.1/24", "dev", "e0"]] {
            let r = try run(ip, args)
            try #require(r.status == 0, "ip \(args.joined(separator: " ")): \(r.stderr)")
        }
        defer { _ = try? run(ip, ["netns", "del", ns]) }
        let wgGo = try WireGuardUserspaceTests.WireGuardGo("rt", namespace: ns)
        let set = try labctl("wg", "setconf", wgGo.name, "\(try WireGuardUserspaceTests.fixtures())/big.conf")
        try #require(set.status == 0, "\(set.stderr)")

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("labctl-rt-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let conf = work.appendingPathComponent("keepalived.conf").path
        try """
            global_defs {
                vrrp_rt_priority 40
            }
            vrrp_instance vi_rt {
                interface e0
                state BACKUP
                virtual_router_id 61
                priority 200
                advert_int 0.1
                version 3
                virtual_ipaddress {
                    192.0.2.100/24
                }
                wireguard {
                    interface \(wgGo.name)
                }
            }

            """.write(toFile: conf, atomically: true, encoding: .utf8)
        let log = work.appendingPathComponent("speaker.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        let speaker = Process()
        speaker.executableURL = URL(fileURLWithPath: ip)
        speaker.arguments = ["netns", "exec", ns, labctlPath, "vrrp", "run", "-f", conf]
        speaker.standardOutput = logHandle
        speaker.standardError = logHandle
        try speaker.run()
        defer { if speaker.isRunning { kill(speaker.processIdentifier, SIGKILL); speaker.waitUntilExit() } }

        // MASTER after about 0.4 s; then the link goes up. Checks dump the device every 100 ms
        // or more, so a few seconds hold many of them.
        var text = ""
        for _ in 0..<100 where speaker.isRunning && !text.contains("\(wgGo.name) up:") {
            usleep(100_000)
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        #expect(text.contains("SCHED_RR priority 40"), "\(text)")
        #expect(text.contains("\(wgGo.name) up:"), "\(text)")
        sleep(2)
        try #require(speaker.isRunning, "the speaker died: \(speaker.terminationReason == .uncaughtSignal ? "signal" : "status") \(speaker.terminationStatus); \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        kill(speaker.processIdentifier, SIGTERM)
        speaker.waitUntilExit()
        #expect(speaker.terminationReason == .exit && speaker.terminationStatus == 0)
    }
}

import ArgumentParser
import VRRP
#if canImport(Glibc)
import Glibc
#endif

extension Lab {
    struct HA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ha",
            abstract: "Boot the HA WireGuard pair in a VM, inject a fault, and time the clients' tunnel outage.",
            discussion: """
                Servers A (priority 250) and B (240) share one WireGuard identity (wg1, port 51800,
                2001:db8:2::1/64) and the VIP 2001:db8:1::2 that the clients use as their endpoint.
                The clients ping 2001:db8:2::1 through the tunnel every 0.1 s. Then A suffers the fault,
                is restored, and preempts again; every round is timed.
                  --impl labctl       labctl vrrp run with a wireguard { } block and endpoint sync
                  --impl keepalived   keepalived, a `wg show wg1` track script and the notify script
                                      of the original write-up (`ip link set up|down dev wg1`)
                Faults: wg-down (wg1 deleted), link-down (A's uplink down), crash (the VRRP process
                killed and wg1 gone, no goodbye), stop (graceful).
                With --nat N, the last N clients sit behind a router that masquerades them (ports
                remapped to 20000-29999): their endpoint is the NAT mapping. With --ipv4, servers,
                clients and the VIP (172.16.0.2) talk IPv4; the tunnel stays IPv6.
                With --host-clients, every client (and the NAT router) runs on the host instead, as
                wireguard-go processes in network namespaces bridged to the VM's NIC (a tap device;
                needs root), so that their handshakes do not take the emulated CPUs from the
                servers. Each such scenario boots a VM of its own.
                Run from the project directory: it uses scripts/vm/run and scripts/lab/ha-guest.sh.

                Examples:
                  labctl lab ha --compare --fault wg-down
                  labctl lab ha --impl labctl --fault crash --peers 20 --nat 4 --json
                  labctl lab ha --fault wg-down --peers 100 --nat 10 --host-clients --cpus 2
                """)

        @Option(help: "labctl or keepalived (comma-separated for both).")
        var impl = "labctl"

        @Flag(help: "Run labctl and keepalived (with --keep-addr) and print the ratio of their outages.")
        var compare = false

        @Option(help: "wg-down, link-down, crash or stop (comma-separated for several).")
        var fault = "wg-down"

        @Option(help: "Client peers (comma-separated for several runs).")
        var peers = "1"

        @Option(help: "How many of the clients sit behind a NAT router.")
        var nat = 0

        @Option(name: .customLong("advert-int"), help: "VRRP advertisement interval in seconds.")
        var advertInt: Double = 1

        @Flag(help: "IPv4 between servers and clients (VIP 172.16.0.2) instead of IPv6.")
        var ipv4 = false

        @Flag(name: .customLong("keep-addr"), help: "Set keep_addr_on_down=1 on the servers (keepalived runs).")
        var keepAddr = false

        @Flag(name: .customLong("host-clients"), help: "Run the clients and the NAT router on the host (wireguard-go); needs root.")
        var hostClients = false

        @Option(help: "Fault and restore rounds per scenario.")
        var rounds = 1

        @Option(help: "IMPL:FAULT:PEERS[:keep-addr][:nat=N][:ipv4][:host][:lose-reply] — an explicit scenario; repeat for more (lose-reply: c1 drops its first handshake reply after every fault and restore). Overrides --impl/--fault/--peers/--nat/--ipv4/--host-clients.")
        var scenario: [String] = []

        @OptionGroup var output: OutputOptions

        @Option(help: "The VM runner; the guest script is ../lab/ha-guest.sh from it.")
        var harness = "scripts/vm/run"

        @Option(help: "Guest memory in MiB.")
        var memory = 1536

        @Option(help: "Guest CPUs (TCG runs one host thread per CPU).")
        var cpus = 1

        func run() throws {
            let scenarios = try plannedScenarios()
            guard advertInt >= 0.01, advertInt <= 40.95 else { throw LabError("--advert-int must be from 0.01 to 40.95 seconds") }
            guard (1...64).contains(cpus) else { throw LabError("--cpus must be from 1 to 64") }
            guard (1...20).contains(rounds) else { throw LabError("--rounds must be from 1 to 20") }
            let directory = harness.contains("/") ? String(harness[..<harness.lastIndex(of: "/")!]) : "."
            let guest = directory + "/../lab/ha-guest.sh"
            let host = directory + "/../lab/ha-host.sh"
            let natRules = directory + "/../lab/nat.nft"
            guard access(harness, X_OK) == 0, access(guest, R_OK) == 0, access(host, X_OK) == 0, access(natRules, R_OK) == 0 else {
                throw LabError("\(harness), \(guest), \(host) or \(natRules) not found: run labctl lab ha from the labctl project directory")
            }
            if scenarios.contains(where: { $0.hostClients > 0 }) && geteuid() != 0 {
                throw LabError("clients on the host need root (network namespaces and a tap device)")
            }
            let skew = (256.0 - 240.0) / 256.0 * advertInt
            // One boot for every scenario inside the VM, and one for each with clients on the host
            // (their wireguard-go processes and the host's probe belong to that scenario).
            let inGuest = scenarios.filter { $0.hostClients == 0 }
            var boots = inGuest.isEmpty ? [] : [inGuest]
            boots += scenarios.filter { $0.hostClients > 0 }.map { [$0] }
            var lines: [String] = []
            for (k, boot) in boots.enumerated() {
                if !output.json {
                    StandardError.write("lab ha: booting the VM for \(boot.count) scenario\(boot.count == 1 ? "" : "s")\(boots.count > 1 ? " (\(k + 1) of \(boots.count) boots)" : "")…\n")
                }
                lines += try self.boot(boot, guest: guest, host: host, natRules: natRules, skew: skew)
            }
            let results = HALabReport.parse(lines, advertisementInterval: advertInt, skew: skew)
            guard results.count == scenarios.count else {
                for line in lines.suffix(40) { StandardError.write(line + "\n") }
                throw LabError("the lab reported \(results.count) of \(scenarios.count) scenarios; its last lines are above")
            }
            try output.emit(HALabReport.document(results, compare: compare)) {
                for r in results { print(r.text()) }
                if compare { print(HALabReport.ratios(results)) }
            }
        }

        /// Boots the VM for `scenarios` and returns what the guest (and the host's probe) printed.
        private func boot(_ scenarios: [Planned], guest: String, host: String, natRules: String, skew: Double) throws -> [String] {
            let baselineWait = max(18.0, 3 * advertInt + 15)
            let env = """
                SCENARIOS="\(scenarios.map(\.spec).joined(separator: " "))"
                ADVERT=\(advertInt)
                INTERVAL=0.1
                ROUNDS=\(rounds)
                SETTLE=1
                RECOVERY=\(3 * advertInt + skew + 3.5)
                BASELINE_RECOVERY=\(baselineWait)

                """
            let envPath = "/tmp/labctl-ha.\(getpid()).env"
            try SecretFile.write(Array(env.utf8), to: envPath)
            defer { unlink(envPath) }
            let options = "-c \(cpus) -m \(memory) -t 1800 -f \(envPath):/test/ha.env -f \(natRules):/test/nat.nft"
            guard let onHost = scenarios.first(where: { $0.hostClients > 0 }) else {
                return try vm("\(harness) \(options) \(guest)")
            }
            // The clients on the host, their keys (and the servers'), and the host's probe; then
            // the VM on their tap. The probe's report comes when they are taken down.
            let keys = "/tmp/labctl-ha.\(getpid()).host"
            let labctl = readlink("/proc/self/exe") ?? "labctl"
            let (up, upStatus) = try shell("LABCTL=\(labctl) \(host) up \(keys) \(onHost.peers) \(onHost.hostClients) \(onHost.nat) \(onHost.family)")
            guard upStatus == 0 else {
                _ = try? shell("\(host) down \(keys)")
                throw LabError("\(host) up: \(up.last ?? "failed")")
            }
            let guestLines: [String]
            do {
                guestLines = try vm("ip netns exec labha-h \(harness) -n labha-tap \(options) -f \(keys):/test/keys \(guest)")
            } catch {
                _ = try? shell("\(host) down \(keys)")
                throw error
            }
            let (probe, downStatus) = try shell("\(host) down \(keys)")
            guard downStatus == 0, !probe.contains(where: { $0.hasPrefix("labctl: error") }) else {
                throw LabError("the host's probe: \(probe.last ?? "failed")")
            }
            return guestLines + probe
        }

        /// Runs the VM harness; its lines, or an error with the last of them.
        private func vm(_ command: String) throws -> [String] {
            let (out, status) = try shell(command)
            guard status == 0 else {
                for line in out.suffix(40) { StandardError.write(line + "\n") }
                throw LabError("the lab VM failed (status \(status)); its last lines are above")
            }
            return out
        }

        /// A shell command's lines (stderr included) and its exit status.
        private func shell(_ command: String) throws -> ([String], Int32) {
            guard let pipe = popen(command + " 2>&1", "r") else { throw LabError("cannot run \(command)") }
            var lines: [String] = []
            var buffer = [CChar](repeating: 0, count: 4096)
            while fgets(&buffer, Int32(buffer.count), pipe) != nil {
                var line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                while line.last == "\n" || line.last == "\r" { line.removeLast() }
                lines.append(line)
            }
            return (lines, pclose(pipe))
        }

        private func readlink(_ path: String) -> String? {
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = Glibc.readlink(path, &buffer, buffer.count - 1)
            return n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        }

        /// One scenario as the guest script takes it: IMPL:FAULT:PEERS:KEEPADDR:NAT:FAMILY:HOST:LOSE.
        struct Planned {
            var impl: String, fault: String, peers: Int, keepAddr: Bool, nat: Int, family: Int
            /// Clients on the host: all of them, or none.
            var hostClients: Int
            /// c1 drops its first handshake reply after every fault and restore.
            var loseReply = false

            var spec: String { "\(impl):\(fault):\(peers):\(keepAddr ? 1 : 0):\(nat):\(family):\(hostClients):\(loseReply ? 1 : 0)" }
        }

        func plannedScenarios() throws -> [Planned] {
            let faults = ["wg-down", "link-down", "crash", "stop"]
            if !scenario.isEmpty {
                return try scenario.map { s in
                    let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    let usage = LabError("--scenario '\(s)': expected IMPL:FAULT:PEERS[:keep-addr][:nat=N][:ipv4][:host][:lose-reply], e.g. labctl:crash:20:nat=4")
                    guard (3...8).contains(parts.count), ["labctl", "keepalived"].contains(parts[0]), faults.contains(parts[1]),
                          let n = Int(parts[2]), (1...200).contains(n) else { throw usage }
                    var keep = false, natted: Int?, family: Int?, onHost = false, lose = false
                    for extra in parts.dropFirst(3) {
                        if extra == "keep-addr", !keep { keep = true }
                        else if extra.hasPrefix("nat="), natted == nil, let k = Int(extra.dropFirst(4)), (0...n).contains(k) { natted = k }
                        else if extra == "ipv4", family == nil { family = 4 }
                        else if extra == "host", !onHost { onHost = true }
                        else if extra == "lose-reply", !lose { lose = true }
                        else { throw usage }
                    }
                    let nat = natted ?? 0
                    guard !(lose && onHost) else { throw LabError("--scenario '\(s)': lose-reply needs c1 in the guest, not on the host") }
                    return Planned(impl: parts[0], fault: parts[1], peers: n, keepAddr: keep, nat: nat, family: family ?? 6,
                                   hostClients: onHost ? n : 0, loseReply: lose)
                }
            }
            let impls = compare ? ["labctl", "keepalived"] : impl.split(separator: ",").map(String.init)
            for i in impls where !["labctl", "keepalived"].contains(i) { throw LabError("--impl '\(i)': expected labctl or keepalived") }
            let chosen = fault.split(separator: ",").map(String.init)
            for f in chosen where !faults.contains(f) { throw LabError("--fault '\(f)': expected one of \(faults.joined(separator: ", "))") }
            let counts = try peers.split(separator: ",").map { p in
                guard let n = Int(p), (1...200).contains(n) else { throw LabError("--peers '\(p)': expected 1 to 200") }
                return n
            }
            guard nat >= 0, let fewest = counts.min(), nat <= fewest else {
                throw LabError("--nat \(nat): expected 0 to the number of clients (\(counts.min() ?? 0))")
            }
            var out: [Planned] = []
            for i in impls { for f in chosen { for n in counts {
                let keep = i == "keepalived" && (keepAddr || compare)
                out.append(Planned(impl: i, fault: f, peers: n, keepAddr: keep, nat: nat, family: ipv4 ? 4 : 6, hostClients: hostClients ? n : 0))
            } } }
            return out
        }
    }
}

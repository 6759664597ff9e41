import Foundation
import Testing

/// The HA WireGuard lab in one VM boot: labctl's four faults with 20 peers, 4 of them behind a NAT
/// router (two rounds each: A fails, B takes over, A comes back and preempts, twice), one with a
/// single peer, and the keepalived baselines of the original write-up with and without
/// keep_addr_on_down.
@Suite("HA WireGuard lab (VM)", .serialized)
struct HAWireGuardLabTests {
    /// The lab's JSON, from one boot shared by every test here.
    static let output: Result<String, LabRunError> = {
        do {
            let result = try run(labctlPath, [
            "lab", "ha", "--json", "--rounds", "2", "--memory", "2048",
            "--harness", packageRoot.appendingPathComponent("scripts/vm/run").path,
            "--scenario", "labctl:wg-down:20:nat=4", "--scenario", "labctl:link-down:20:nat=4",
            "--scenario", "labctl:crash:20:nat=4", "--scenario", "labctl:stop:20:nat=4",
            "--scenario", "labctl:wg-down:1",
            "--scenario", "keepalived:wg-down:1:keep-addr", "--scenario", "keepalived:stop:1",
        ])
            guard result.status == 0 else { return .failure(LabRunError(text: result.stderr + result.stdout)) }
            return .success(result.stdout)
        } catch {
            return .failure(LabRunError(text: "\(error)"))
        }
    }()

    struct LabRunError: Error, Sendable, CustomStringConvertible { var text: String; var description: String { text } }

    static func scenario(_ impl: String, _ fault: String, peers: Int, keepAddr: Bool = false) throws -> [String: Any] {
        let object = try #require(try json(output.get()) as? [String: Any])
        let all = try #require(object["scenarios"] as? [[String: Any]])
        return try #require(all.first {
            $0["impl"] as? String == impl && $0["fault"] as? String == fault && $0["peers"] as? Int == peers
                && $0["keep_addr_on_down"] as? Bool == keepAddr
        })
    }

    @Test("labctl keeps every tunnel within its bound, on the fault and on the preempt back",
          arguments: [("wg-down", 20), ("link-down", 20), ("crash", 20), ("stop", 20), ("wg-down", 1)])
    func labctlWithinBound(fault: String, peers: Int) throws {
        let s = try Self.scenario("labctl", fault, peers: peers)
        let bound = try #require(s["bound_seconds"] as? Double)
        #expect(s["never_worked"] as? Bool == false)
        let outage = try #require(s["outage_seconds"] as? Double, "\(fault): not recovered")
        let preempt = try #require(s["preempt_outage_seconds"] as? Double, "\(fault): not recovered after the preempt")
        #expect(outage <= bound, "\(fault), \(peers) peers: \(outage) s > \(bound) s")
        #expect(preempt <= bound, "\(fault), \(peers) peers, preempt: \(preempt) s > \(bound) s")
        let rounds = try #require(s["rounds"] as? [[String: Any]])
        #expect(rounds.count == 4)
        for round in rounds { #expect(round["peers_recovered"] as? Int == peers) }
        if fault == "wg-down" || fault == "stop" { #expect(bound == 1.0) }
    }

    @Test("Clients behind NAT recover too: each server's endpoint for them is the router's mapping",
          arguments: ["wg-down", "link-down", "crash", "stop"])
    func natClientsUseTheMapping(fault: String) throws {
        let s = try Self.scenario("labctl", fault, peers: 20)
        #expect(s["nat_peers"] as? Int == 4)
        let timeline = try #require(s["timeline"] as? [[String: Any]])
        let endpoints = timeline.compactMap { $0["event"] as? String }.filter { $0.hasPrefix("endpoint of c") }
        // Two rounds, each on B after the fault and on A after the preempt, for c17…c20.
        #expect(endpoints.count == 2 * 2 * 4)
        for e in endpoints {
            let mapping = try #require(e.split(separator: " ").last.map(String.init), "\(e)")
            #expect(mapping.hasPrefix("[2001:db8:1::fe]:"), "\(fault): \(e)")
            let port = Int(mapping.split(separator: ":").last ?? "") ?? 0
            #expect((20000...29999).contains(port), "\(fault): \(e)")
        }
    }

    @Test("After every takeover the master routes the tunnel subnet and the subnet its config names ('route')",
          arguments: ["wg-down", "link-down", "crash", "stop"])
    func routesComeBack(fault: String) throws {
        let s = try Self.scenario("labctl", fault, peers: 20)
        let timeline = try #require(s["timeline"] as? [[String: Any]])
        let routes = timeline.compactMap { $0["event"] as? String }.filter { $0.hasPrefix("tunnel routes:") }
        // Two rounds, each on B after the fault and on A after the preempt.
        #expect(routes.count == 2 * 2)
        for r in routes {
            #expect(r.contains("2001:db8:2::/64") && r.contains("2001:db8:9::/64"), "\(fault): \(r)")
        }
    }

    @Test("A forged endpoint update (sealed with another key) is refused by the backup")
    func forgedUpdateRejected() throws {
        for fault in ["wg-down", "stop"] {
            let s = try Self.scenario("labctl", fault, peers: 20)
            #expect((s["rejected_sync_messages"] as? Int ?? 0) >= 1)
        }
    }

    @Test("keepalived with keep_addr_on_down=1 leaves the clients without a tunnel for seconds")
    func keepalivedBaselineOutage() throws {
        let s = try Self.scenario("keepalived", "wg-down", peers: 1, keepAddr: true)
        #expect(s["never_worked"] as? Bool == false)
        let rounds = try #require(s["rounds"] as? [[String: Any]])
        let fault = try #require(rounds.first)
        // Either it came back after WireGuard's own timeouts (5.8–15 s measured), or not at all in the window.
        if let outage = fault["outage_seconds"] as? Double { #expect(outage >= 5) } else { #expect(fault["peers_recovered"] as? Int == 0) }
    }

    @Test("keepalived with default sysctls: the notify script's link down flushes the tunnel address")
    func keepalivedBaselineNeverWorks() throws {
        let s = try Self.scenario("keepalived", "stop", peers: 1)
        #expect(s["never_worked"] as? Bool == true)
    }
}

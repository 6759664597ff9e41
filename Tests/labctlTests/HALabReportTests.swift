import Foundation
import Testing
@testable import labctl

/// The lab's arithmetic on recorded guest output (the real run is HAWireGuardLabTests).
struct HALabReportTests {
    static let recorded: [String] = {
        let url = packageRoot.appendingPathComponent("Tests/labctlTests/Fixtures/ha-guest-labctl-wg-down.txt")
        return (try? String(contentsOf: url, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }()

    @Test func outagesFromRecordedRun() throws {
        let results = HALabReport.parse(Self.recorded, advertisementInterval: 1, skew: 56.0 / 256)
        let r = try #require(results.first)
        #expect(results.count == 1)
        #expect(r.impl == "labctl" && r.fault == "wg-down" && r.peers == 1)
        #expect(!r.neverWorked)
        #expect(r.bound == 1.0)
        let phases = r.phases
        #expect(phases.map(\.name) == ["fault", "restore"])
        #expect(abs((r.outage ?? -1) - 0.4) < 0.01)
        #expect(abs((r.preemptOutage ?? -1) - 0.1) < 0.01)
        #expect(r.withinBound)
    }

    @Test func jsonIsValid() throws {
        let results = HALabReport.parse(Self.recorded, advertisementInterval: 1, skew: 56.0 / 256)
        let data = try JSONEncoder().encode(HALabReport.document(results, compare: true))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let scenario = try #require((object["scenarios"] as? [[String: Any]])?.first)
        #expect(scenario["impl"] as? String == "labctl")
        #expect(abs((scenario["outage_seconds"] as? Double ?? -1) - 0.4) < 0.01)
        #expect((scenario["timeline"] as? [Any])?.isEmpty == false)
        let first = try #require((scenario["rounds"] as? [[String: Any]])?.first)
        #expect(first["phase"] as? String == "fault")
        #expect(object["ratios"] is [Any])
    }

    @Test("An outage is held to its bound at the millisecond the report prints")
    func boundAtTheMillisecond() {
        let r = HALabResult(impl: "labctl", fault: "wg-down", peers: 1, keepAddr: false, advertisementInterval: 1, skew: 0.0625)
        #expect(r.isWithinBound(1.0004))
        #expect(!r.isWithinBound(1.0006))
        #expect(r.isWithinBound(0.7))
    }

    @Test("An open gap means not recovered; no answer before the fault means it never worked")
    func unrecoveredAndNeverWorked() {
        let lines = ["SCENARIO keepalived stop 1 0", "PHASE 10.0 fault", "PHASE 20.0 restore", "PHASE 30.0 end",
                     "PROBE c1 200 0 -", "GAP c1 5.0 29.0 240 open"]
        let r = HALabReport.parse(lines, advertisementInterval: 1, skew: 0.2)[0]
        #expect(r.neverWorked)
        #expect(r.outage == nil)
        #expect(r.phases[0].peersRecovered == 0)
    }

    @Test("The scenario line's sixth field is the number of clients behind NAT (older output has five)")
    func natPeers() throws {
        let withNAT = HALabReport.parse(["SCENARIO labctl crash 20 0 4"], advertisementInterval: 1, skew: 0.2)
        #expect(withNAT.first?.natPeers == 4)
        #expect(HALabReport.parse(["SCENARIO labctl crash 20 0"], advertisementInterval: 1, skew: 0.2).first?.natPeers == 0)
        let data = try JSONEncoder().encode(withNAT[0])
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["nat_peers"] as? Int == 4)
        #expect(withNAT[0].text().contains("20 peers (4 behind NAT)"))
    }

    @Test("The eighth field counts the clients on the host; their probe's lines join the scenario before them")
    func hostClients() throws {
        let lines = ["SCENARIO labctl wg-down 3 0 1 6 2", "PHASE 10.0 fault", "PHASE 20.0 end",
                     "PROBE c3 100 95 1.0", "GAP c3 10.1 10.4 4 closed", "DONE",
                     "PROBE c1 100 94 1.1", "PROBE c2 100 99 1.2", "GAP c1 10.2 10.6 5 closed"]
        let r = try #require(HALabReport.parse(lines, advertisementInterval: 1, skew: 0.2).first)
        #expect(r.hostClients == 2 && r.natPeers == 1 && r.underlay == 6)
        #expect(!r.neverWorked)
        #expect(abs((r.outage ?? 0) - 0.5) < 1e-9)
        #expect(r.phases.first?.slowestPeer == "c1")
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as? [String: Any])
        #expect(object["host_clients"] as? Int == 2)
        #expect((object["rounds"] as? [[String: Any]])?.first?["slowest_peer"] as? String == "c1")
        #expect(r.text().contains("outage 0.500 s (longest: c1)"))
        #expect(r.text().contains("3 peers (1 behind NAT) (2 on the host)"))
    }

    @Test("The ninth field says c1 lost its first handshake reply in every phase")
    func lostReply() throws {
        let r = try #require(HALabReport.parse(["SCENARIO labctl wg-down 1 0 0 6 0 1"], advertisementInterval: 1, skew: 0.2).first)
        #expect(r.loseReply && r.hostClients == 0)
        #expect(HALabReport.parse(["SCENARIO labctl wg-down 1 0 0 6 0"], advertisementInterval: 1, skew: 0.2).first?.loseReply == false)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as? [String: Any])
        #expect(object["lose_first_reply"] as? Bool == true)
        #expect(r.text().contains("1 peer, c1's first handshake reply lost, IPv6"))
    }
}

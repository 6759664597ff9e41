import Foundation
import Testing

/// labctl's speaker and keepalived as one virtual router, in network namespaces on a bridge:
/// election, preemption, nopreempt, priority-0 handoff on SIGTERM, takeover after SIGKILL,
/// IPv4 and IPv6, notify scripts, and tshark's view of labctl's packets. Intervals are 0.1 s.
@Suite struct VRRPKeepalivedTests {
    /// `RESULT name value` lines of the scenario script.
    static let results: Result<[String: String], Error> = Result {
        let script = packageRoot.appendingPathComponent("Tests/labctlTests/Scripts/vrrp-keepalived.sh").path
        let r = try run(script, [labctlPath])
        var out: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("RESULT ") {
            let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
            out[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        if out.isEmpty { throw CommandFailure(description: "no results: \(r.stdout.suffix(2000)) \(r.stderr.suffix(2000))") }
        return out
    }

    struct CommandFailure: Error, CustomStringConvertible { let description: String }

    func value(_ key: String) throws -> String {
        let all = try Self.results.get()
        return try #require(all[key], "missing \(key)")
    }

    /// Seconds, failing on "timeout".
    func seconds(_ key: String) throws -> Double {
        let text = try value(key)
        return try #require(Double(text), "\(key) = \(text)")
    }

    // Master_Down_Interval at 0.1 s: 0.3 + 0.1 × (256 − priority) / 256.
    static func masterDown(_ priority: Double) -> Double { 0.3 + 0.1 * (256 - priority) / 256 }
    /// What signal delivery and scheduling on a loaded CI machine add. Takeovers are timed from
    /// the signal to the kernel's address event, not by polling.
    static let margin = 0.25

    @Test(arguments: ["v4", "v6"])
    func labctlWinsTheElectionAtHigherPriority(family: String) throws {
        #expect(try seconds("\(family).election.labctl_vip") < 1.5)
        #expect(try value("\(family).election.labctl_state") == "MASTER")
        #expect(try value("\(family).election.keepalived_vip") == "no")
    }

    @Test(arguments: ["v4", "v6"])
    func tsharkDecodesLabctlsAdvertisementsWithAValidChecksum(family: String) throws {
        let vip = family == "v4" ? "192.0.2.100," : ",2001:db8:1::2"
        // priority, checksum status (1 = good), address
        #expect(try value("\(family).tshark") == "150,1,\(vip);")
    }

    @Test(arguments: ["v4", "v6"])
    func sigtermHandsOverWithPriorityZero(family: String) throws {
        // The backup takes over after Skew_Time (0.061 s), not Master_Down_Interval.
        #expect(try seconds("\(family).sigterm.keepalived_vip") < 0.061 + Self.margin)
        #expect(try value("\(family).sigterm.labctl_kept_vip") == "no")
    }

    @Test(arguments: ["v4", "v6"])
    func notifyScriptsRunInOrderWithKeepalivedsArguments(family: String) throws {
        let name = "vi_\(family.dropFirst())"
        #expect(try value("\(family).notify")
                == "INSTANCE \(name) BACKUP 150;master-only;INSTANCE \(name) MASTER 150;INSTANCE \(name) STOP 150;")
    }

    @Test(arguments: ["v4", "v6"])
    func labctlPreemptsALowerKeepalived(family: String) throws {
        #expect(try seconds("\(family).preempt.labctl_vip") < 1.5)
        #expect(try value("\(family).preempt.keepalived_vip") == "no")
    }

    @Test(arguments: ["v4", "v6"])
    func keepalivedTakesOverAfterLabctlIsKilled(family: String) throws {
        #expect(try seconds("\(family).sigkill.keepalived_takeover") < Self.masterDown(100) + Self.margin)
    }

    @Test(arguments: ["v4", "v6"])
    func labctlAtLowerPriorityBacksUpTakesOverAndIsPreempted(family: String) throws {
        #expect(try seconds("\(family).low.keepalived_vip") < 1.5)
        #expect(try value("\(family).low.labctl_running") == "yes")
        #expect(try value("\(family).low.labctl_state") == "BACKUP")
        #expect(try seconds("\(family).low.labctl_takeover") < Self.masterDown(50) + Self.margin)
        #expect(try seconds("\(family).low.keepalived_preempts") < 1.5)
        #expect(try value("\(family).low.labctl_vip_after_preempt") == "no")
    }

    @Test(arguments: ["v4", "v6"])
    func vrrpRtPriorityMakesTheSpeakerRealTimeButNotItsScripts(family: String) throws {
        #expect(try value("\(family).low.labctl_scheduling") == "2/40")  // SCHED_RR at 40
        #expect(try value("\(family).low.notify_scheduling") == "0/0;")  // SCHED_OTHER: reset on fork
    }

    @Test func nopreemptLeavesALowerMasterAlone() throws {
        #expect(try seconds("nopreempt.keepalived_vip") < 1.5)
        #expect(try value("nopreempt.labctl_state") == "BACKUP")
        #expect(try value("nopreempt.labctl_vip") == "no")
        #expect(try seconds("nopreempt.labctl_takeover") < 0.061 + Self.margin)
    }

    @Test func failingTrackScriptPutsLabctlInFaultAndRecoveryBringsItBack() throws {
        #expect(try seconds("track.labctl_vip") < 1.5)
        // The check runs every 0.1 s; on failure labctl sends priority 0, so keepalived takes over after Skew_Time.
        #expect(try seconds("track.keepalived_vip_after_failure") < 0.1 + 0.061 + Self.margin)
        #expect(try value("track.labctl_state_failed") == "FAULT")
        #expect(try seconds("track.labctl_vip_after_recovery") < 1.5)
        #expect(try value("track.notify") == ["BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"]
            .map { "INSTANCE vi_4 \($0) 150;" }.joined())
    }

    /// Both sides with `use_vmac`: keepalived is master first, labctl preempts it, then hands
    /// back on SIGTERM; the observer sees the virtual MAC for the VIP throughout.
    @Test(arguments: ["v4", "v6"])
    func useVmacWorksWithKeepalived(family: String) throws {
        let mac = family == "v4" ? "00:00:5e:00:01:34" : "00:00:5e:00:02:35"
        #expect(try seconds("vmac.\(family).keepalived_vip") < 1.5)
        #expect(try seconds("vmac.\(family).labctl_vip") < 1.5)
        #expect(try value("vmac.\(family).keepalived_kept_vip") == "no")
        #expect(try value("vmac.\(family).link") == "\(mac) macvlan mode private")
        #expect(try (Int(value("vmac.\(family).received_from_keepalived")) ?? 0) > 0)
        #expect(try value("vmac.\(family).labctl_advert_macs") == mac + " ")
        for phase in ["labctl", "keepalived"] { #expect(try value("vmac.\(family).ping_\(phase)") == "ok") }
        for phase in ["before", "labctl", "keepalived"] { #expect(try value("vmac.\(family).neighbour_\(phase)") == mac) }
        #expect(try seconds("vmac.\(family).sigterm.keepalived_vip") < 0.061 + Self.margin)
        #expect(try value("vmac.\(family).labctl_link_after_stop") == "gone")
    }

    @Test func useVmacSetsTheParentsARPSysctlsAndRestoresThem() throws {
        #expect(try value("vmac.v4.parent_arp") == "1 1 ")
        #expect(try value("vmac.v4.parent_arp_after_stop") == "0 0 ")
    }

    @Test func unicastPeersWorkWithKeepalived() throws {
        #expect(try seconds("unicast.labctl_vip") < 1.5)
        #expect(try value("unicast.keepalived_vip") == "no")
        #expect(try seconds("unicast.sigterm.keepalived_vip") < 0.061 + Self.margin)
    }
}

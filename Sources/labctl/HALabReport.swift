/// What one scenario of the HA lab showed, computed from the guest's lines (see
/// scripts/lab/ha-guest.sh). Pure: the tests and `labctl lab ha` share it.
struct HALabResult {
    struct Event { var t: Double; var who: String; var what: String }
    struct Gap { var client: String; var first: Double; var last: Double; var count: Int; var open: Bool }
    struct Probe { var sent: Int; var answered: Int; var first: Double? }
    struct Phase {
        var name: String
        var start: Double
        /// The longest outage of any client in this phase (nil: some client never recovered).
        var outage: Double?
        var firstLost: Double?
        var lastLost: Double?
        var peersHit = 0
        var peersRecovered = 0
        /// The client whose outage was the longest: where to look when a round misses its bound.
        var slowestPeer: String?
    }

    var impl: String
    var fault: String
    var peers: Int
    var keepAddr: Bool
    /// Clients behind the lab's NAT router (the last ones).
    var natPeers = 0
    /// The IP version between servers and clients (the tunnel inside is IPv6 either way).
    var underlay = 6
    /// Clients that ran on the VM's host (wireguard-go) rather than in the VM (the first ones).
    var hostClients = 0
    /// c1 dropped its first handshake reply after every fault and restore.
    var loseReply = false
    var advertisementInterval: Double
    var skew: Double
    var probeInterval = 0.1
    var events: [Event] = []
    var phaseMarks: [(t: Double, name: String)] = []
    var probes: [String: Probe] = [:]
    var gaps: [Gap] = []

    /// The goal: 1 s for wg-down and stop; Master_Down_Interval + 0.5 s when A vanishes silently.
    var bound: Double {
        fault == "wg-down" || fault == "stop" ? 1.0 : 3 * advertisementInterval + skew + 0.5
    }

    var firstFault: Double? { phaseMarks.first { $0.name == "fault" }?.t }

    /// Some client never got an answer before the first fault: the tunnel never worked.
    var neverWorked: Bool {
        guard let f = firstFault else { return true }
        return probes.count < peers || probes.values.contains { $0.first.map { $0 >= f } ?? true }
    }

    var phases: [Phase] {
        let end = phaseMarks.last { $0.name == "end" }?.t ?? .infinity
        var out: [Phase] = []
        for (k, mark) in phaseMarks.enumerated() where mark.name != "end" {
            let next = k + 1 < phaseMarks.count ? phaseMarks[k + 1].t : end
            var phase = Phase(name: mark.name, start: mark.t, outage: 0)
            var worst = 0.0, unrecovered = false
            var hit = Set<String>()
            for gap in gaps where gap.first >= mark.t - probeInterval && gap.first < next {
                hit.insert(gap.client)
                phase.firstLost = min(phase.firstLost ?? gap.first, gap.first)
                phase.lastLost = max(phase.lastLost ?? gap.last, gap.last)
                let length = gap.open ? end - gap.first : gap.last - gap.first + probeInterval
                if gap.open { unrecovered = true }
                if length > worst { worst = length; phase.slowestPeer = gap.client }
            }
            let stillOpen = Set(gaps.filter { $0.open && $0.first < next }.map(\.client))
            phase.peersHit = hit.count
            phase.peersRecovered = peers - stillOpen.count
            phase.outage = unrecovered || !stillOpen.isEmpty ? nil : worst
            out.append(phase)
        }
        return out
    }

    /// The longest outage over the fault rounds; nil when the tunnel never worked or never came back.
    var outage: Double? {
        guard !neverWorked else { return nil }
        let list = phases.filter { $0.name == "fault" }.map(\.outage)
        guard !list.isEmpty, !list.contains(where: { $0 == nil }) else { return nil }
        return list.compactMap { $0 }.max()
    }

    /// The longest outage when A comes back and preempts.
    var preemptOutage: Double? {
        guard !neverWorked else { return nil }
        let list = phases.filter { $0.name == "restore" }.map(\.outage)
        guard !list.isEmpty, !list.contains(where: { $0 == nil }) else { return nil }
        return list.compactMap { $0 }.max()
    }

    /// Sync messages the servers refused (the lab sends one forged update per labctl run).
    var rejectedSyncMessages: Int { events.filter { $0.what.contains("rejected") }.count }

    var withinBound: Bool {
        guard let o = outage, let p = preemptOutage else { return false }
        return isWithinBound(o) && isWithinBound(p)
    }

    /// Compared at the millisecond that the report prints and the JSON carries: the probe's
    /// send times jitter by fractions of a millisecond, so that 10 lost pings at 0.1 s are not
    /// "1.000 s, OVER the 1.000 s bound".
    func isWithinBound(_ outage: Double) -> Bool { milliseconds(outage) <= bound }

    func text() -> String {
        let zero = firstFault ?? events.first?.t ?? 0
        var out = "== \(impl)\(keepAddr ? " (keep_addr_on_down=1)" : ""), fault \(fault), \(peers) peer\(peers == 1 ? "" : "s")\(natPeers > 0 ? " (\(natPeers) behind NAT)" : "")\(hostClients > 0 ? " (\(hostClients) on the host)" : "")\(loseReply ? ", c1's first handshake reply lost" : ""), IPv\(underlay), advert_int \(secondsText(advertisementInterval)) s\n"
        out += "   t (s)  who  event\n"
        for e in events.sorted(by: { $0.t < $1.t }) {
            out += pad(secondsText(e.t - zero, signed: true), 8) + "  " + pad(e.who, 3, left: false) + "  " + e.what + "\n"
        }
        if neverWorked { out += "   the tunnel never worked: some client had no answer before the fault\n" }
        var round = 0
        for phase in phases {
            if phase.name == "fault" { round += 1 }
            let lost = phase.firstLost.map { "lost pings \(secondsText($0 - zero, signed: true)) … \(secondsText((phase.lastLost ?? $0) - zero, signed: true))" } ?? "no ping lost"
            let outage = phase.outage.map { "outage \(secondsText($0)) s" } ?? "NOT RECOVERED"
            let verdict = (phase.outage.map(isWithinBound) ?? false) ? "within" : "OVER"
            let slowest = phase.slowestPeer.map { " (longest: \($0))" } ?? ""
            out += "   round \(round) \(phase.name == "fault" ? "fault  " : "preempt"): \(outage)\(slowest), \(lost), \(phase.peersRecovered)/\(peers) peers recovered; \(verdict) the \(secondsText(bound)) s bound\n"
        }
        return out
    }

}

/// The JSON of one scenario: `impl` and `outage_seconds` beside the rounds and the timeline.
/// Times are seconds from the first fault, to the millisecond; a missing outage is null.
extension HALabResult: Encodable {
    private enum Key: String, CodingKey {
        case impl, fault, peers, natPeers = "nat_peers", hostClients = "host_clients", loseReply = "lose_first_reply", underlay, keepAddr = "keep_addr_on_down", advertInt = "advert_int", outage = "outage_seconds"
        case preemptOutage = "preempt_outage_seconds", bound = "bound_seconds", withinBound = "within_bound"
        case neverWorked = "never_worked", rejected = "rejected_sync_messages", rounds, timeline
        case phase, at, firstLost = "first_lost", lastLost = "last_lost", peersHit = "peers_hit", peersRecovered = "peers_recovered", slowestPeer = "slowest_peer"
        case t, who, event
    }

    func encode(to encoder: any Encoder) throws {
        let zero = firstFault ?? 0
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(impl, forKey: .impl)
        try c.encode(fault, forKey: .fault)
        try c.encode(peers, forKey: .peers)
        try c.encode(natPeers, forKey: .natPeers)
        try c.encode(hostClients, forKey: .hostClients)
        try c.encode(loseReply, forKey: .loseReply)
        try c.encode("ipv\(underlay)", forKey: .underlay)
        try c.encode(keepAddr, forKey: .keepAddr)
        try c.encode(milliseconds(advertisementInterval), forKey: .advertInt)
        try c.encode(outage.map(milliseconds), forKey: .outage)
        try c.encode(preemptOutage.map(milliseconds), forKey: .preemptOutage)
        try c.encode(milliseconds(bound), forKey: .bound)
        try c.encode(withinBound, forKey: .withinBound)
        try c.encode(neverWorked, forKey: .neverWorked)
        try c.encode(rejectedSyncMessages, forKey: .rejected)
        var rounds = c.nestedUnkeyedContainer(forKey: .rounds)
        for p in phases {
            var r = rounds.nestedContainer(keyedBy: Key.self)
            try r.encode(p.name == "fault" ? "fault" : "preempt", forKey: .phase)
            try r.encode(milliseconds(p.start - zero), forKey: .at)
            try r.encode(p.outage.map(milliseconds), forKey: .outage)
            try r.encode(p.firstLost.map { milliseconds($0 - zero) }, forKey: .firstLost)
            try r.encode(p.lastLost.map { milliseconds($0 - zero) }, forKey: .lastLost)
            try r.encode(p.peersHit, forKey: .peersHit)
            try r.encode(p.peersRecovered, forKey: .peersRecovered)
            try r.encode(p.slowestPeer, forKey: .slowestPeer)
        }
        var timeline = c.nestedUnkeyedContainer(forKey: .timeline)
        for e in events.sorted(by: { $0.t < $1.t }) {
            var entry = timeline.nestedContainer(keyedBy: Key.self)
            try entry.encode(milliseconds(e.t - zero), forKey: .t)
            try entry.encode(e.who, forKey: .who)
            try entry.encode(e.what, forKey: .event)
        }
    }
}

enum HALabReport {
    /// Splits the guest's output into scenarios.
    static func parse(_ lines: [String], advertisementInterval: Double, skew: Double) -> [HALabResult] {
        var results: [HALabResult] = []
        for line in lines {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let tag = f.first else { continue }
            // SCENARIO IMPL FAULT PEERS KEEPADDR [NAT [FAMILY [HOST [LOSE]]]]
            if tag == "SCENARIO", (5...9).contains(f.count), let n = Int(f[3]) {
                results.append(HALabResult(impl: f[1], fault: f[2], peers: n, keepAddr: f[4] == "1",
                                           natPeers: f.count >= 6 ? Int(f[5]) ?? 0 : 0, underlay: f.count >= 7 && f[6] == "4" ? 4 : 6,
                                           hostClients: f.count >= 8 ? Int(f[7]) ?? 0 : 0, loseReply: f.count == 9 && f[8] == "1",
                                           advertisementInterval: advertisementInterval, skew: skew))
                continue
            }
            guard !results.isEmpty else { continue }
            let k = results.count - 1
            switch tag {
            case "EVENT" where f.count >= 4:
                if let t = Double(f[1]) { results[k].events.append(.init(t: t, who: f[2], what: f[3...].joined(separator: " "))) }
            case "PHASE" where f.count == 3:
                if let t = Double(f[1]) { results[k].phaseMarks.append((t, f[2])) }
            case "PROBE" where f.count == 5:
                if let sent = Int(f[2]), let answered = Int(f[3]) { results[k].probes[f[1]] = .init(sent: sent, answered: answered, first: Double(f[4])) }
            case "GAP" where f.count == 6:
                if let a = Double(f[2]), let b = Double(f[3]), let n = Int(f[4]) {
                    results[k].gaps.append(.init(client: f[1], first: a, last: b, count: n, open: f[5] == "open"))
                }
            case "LOG" where f.count >= 5:
                // "LOG A labctl vrrp: 12.345 (wg_v6) Entering MASTER STATE"
                if let t = Double(f[4]) {
                    let words = f[5...].drop { $0.hasPrefix("(") && $0.hasSuffix(")") }
                    let what = words.joined(separator: " ")
                    results[k].events.append(.init(t: t, who: f[1], what: what))
                }
            default:
                continue
            }
        }
        // labctl's own log says the same as its notify entries, and more precisely.
        for k in results.indices where results[k].impl == "labctl" {
            results[k].events.removeAll { ["MASTER", "BACKUP", "FAULT", "STOP"].contains($0.what) }
        }
        return results
    }

    /// What `labctl lab ha --json` prints: every scenario, and the ratios with `--compare`.
    struct Document: Encodable {
        var scenarios: [HALabResult]
        var ratios: [Comparison]?
    }

    static func document(_ results: [HALabResult], compare: Bool) -> Document {
        Document(scenarios: results, ratios: compare ? comparisons(results) : nil)
    }

    static func ratios(_ results: [HALabResult]) -> String {
        comparisons(results).map { c in
            "\(c.fault), \(c.peers) peer\(c.peers == 1 ? "" : "s"): keepalived \(c.keepalived.map { secondsText($0) + " s" } ?? "never recovered") vs labctl \(c.labctl.map { secondsText($0) + " s" } ?? "never recovered")" + (c.ratio.map { ": \(secondsText($0))× shorter with labctl" } ?? "")
        }.joined(separator: "\n")
    }

    struct Comparison: Encodable {
        var fault: String
        var peers: Int
        var labctl: Double?
        var keepalived: Double?
        var ratio: Double?

        private enum Key: String, CodingKey { case fault, peers, ratio = "keepalived_over_labctl" }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(fault, forKey: .fault)
            try c.encode(peers, forKey: .peers)
            try c.encode(ratio.map(milliseconds), forKey: .ratio)
        }
    }

    static func comparisons(_ results: [HALabResult]) -> [Comparison] {
        results.filter { $0.impl == "labctl" }.map { l in
            let k = results.first { $0.impl == "keepalived" && $0.fault == l.fault && $0.peers == l.peers }
            let ratio: Double? = if let a = k?.outage, let b = l.outage, b > 0 { a / b } else { nil }
            return Comparison(fault: l.fault, peers: l.peers, labctl: l.outage, keepalived: k?.outage, ratio: ratio)
        }
    }
}

/// Seconds rounded to the millisecond, for JSON.
private func milliseconds(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }

private func pad(_ s: String, _ width: Int, left: Bool = true) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? fill + s : s + fill
}

/// Runs a ``SimulationScript`` on a ``Machine``, one step at a time, and keeps the frame
/// accounting after each step.
public struct Simulation: Sendable {
    public private(set) var machine: Machine
    /// Address spaces by name; the first is `init`.
    public private(set) var spaces: [(name: String, space: AddressSpace)]
    public private(set) var currentName = "init"

    /// What one step did.
    public struct Outcome: Sendable, Hashable, Codable {
        public let line: Int
        public let command: String
        /// What happened, or the error a `!` step expected.
        public let result: String
        public let failedAsExpected: Bool
        public let accounting: FrameAccounting
    }

    public init(_ settings: SimulationScript.Settings) throws(PagingError) {
        machine = try Machine(mode: settings.mode, selfMapIndex: settings.selfMapIndex, frameCount: settings.frames,
                              tlbCapacity: settings.tlbCapacity, secondLevelTLBCapacity: settings.secondLevelTLBCapacity)
        spaces = [("init", machine.current)]
    }

    /// Runs every step, stopping at the first that fails unexpectedly (or succeeds when it must fail).
    public static func run(_ script: SimulationScript, each: (Outcome) -> Void = { _ in }) throws(SimulationScriptError) -> Simulation {
        var simulation: Simulation
        do { simulation = try Simulation(script.settings) } catch {
            throw SimulationScriptError(file: script.file, line: 0, message: error.description)
        }
        for step in script.steps { each(try simulation.run(step, file: script.file)) }
        return simulation
    }

    /// Runs one step. Errors name the script's file and line.
    public mutating func run(_ step: SimulationScript.Step, file: String) throws(SimulationScriptError) -> Outcome {
        func fail(_ message: String) -> SimulationScriptError {
            SimulationScriptError(file: file, line: step.line, message: "\(step.text): \(message)")
        }
        let result: String
        do {
            result = try perform(step.command)
        } catch {
            guard step.mustFail else { throw fail("\(error)") }
            return Outcome(line: step.line, command: step.text, result: "failed as expected: \(error)",
                           failedAsExpected: true, accounting: machine.frames.accounting)
        }
        if step.mustFail { throw fail("expected a failure, but it succeeded (\(result))") }
        return Outcome(line: step.line, command: step.text, result: result, failedAsExpected: false, accounting: machine.frames.accounting)
    }

    /// Why a step's own check failed.
    struct CheckFailed: Error, CustomStringConvertible {
        let description: String
    }

    mutating func perform(_ command: SimulationScript.Command) throws(any Error) -> String {
        let digits = machine.mode == .i386 || machine.mode == .pae ? 8 : 16
        func hex(_ v: UInt64) -> String { VirtualAddress(v).hex(digits: digits) }
        func physical(_ v: UInt64) -> String { "0x" + String(v, radix: 16, uppercase: true) }
        let before = machine.frames.accounting
        func delta() -> String {
            let after = machine.frames.accounting
            let parts = [("tables", after.tables - before.tables), ("data", after.data - before.data)]
                .filter { $0.1 != 0 }.map { "\($0.1 > 0 ? "+" : "")\($0.1) \(abs($0.1) == 1 && $0.0 == "tables" ? "table" : $0.0)" }
            return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
        }
        switch command {
        case let .map(va, pa, size, flags, count, tables):
            var done = 0
            do {
                while done < count {
                    let offset = UInt64(done) * size.bytes
                    let (v, overflowV) = va.addingReportingOverflow(offset)
                    let (p, overflowP) = pa.addingReportingOverflow(offset)
                    guard !overflowV, !overflowP else { throw PagingError.nonCanonical(va) }
                    try machine.map(v, to: p, size: size, flags: flags, tables: tables)
                    done += 1
                }
            } catch {
                // Leave nothing half-applied: undo this line's earlier pages.
                for k in 0..<done { _ = try? machine.unmap(va + UInt64(k) * size.bytes) }
                throw done == 0 ? error : CheckFailed(description: "page \(done + 1) of \(count): \(error)")
            }
            let what = count == 1 ? "\(hex(va)) → \(physical(pa))" : "\(count) pages \(hex(va)) → \(physical(pa))"
            return "mapped \(what), \(size), \(flags.union(.present).names)\(delta())"
        case let .unmap(va, count):
            var pages = 0
            var next = va
            while pages < count {
                let translation = try machine.unmap(next)
                pages += 1
                let (following, overflow) = next.addingReportingOverflow(translation.pageSize.bytes)
                if overflow { break }
                next = machine.selfMap.canonical(following)
            }
            return "unmapped \(pages == 1 ? hex(va) : "\(pages) pages from \(hex(va))")\(delta())"
        case let .protect(va, set, clear):
            try machine.updateFlags(va, set: set, clear: clear)
            let t = try machine.translate(va)
            return "\(hex(va)) now \(t?.flags.names ?? "-")"
        case let .touch(va, access):
            let pa = try machine.touch(va, access)
            return "\(hex(va)) → \(physical(pa))\(delta())"
        case let .load(va, expected):
            let value = try machine.load(va)
            if let expected, expected != value { throw CheckFailed(description: "read \(physical(value)), expected \(physical(expected))") }
            return "\(hex(va & ~7)) = \(physical(value))\(delta())"
        case let .store(va, value):
            try machine.store(value, at: va)
            return "\(hex(va & ~7)) ← \(physical(value))\(delta())"
        case let .translate(va, expected):
            let t = try machine.translate(va)
            if let expected, expected != t?.physicalAddress {
                throw CheckFailed(description: "translates to \(t.map { physical($0.physicalAddress) } ?? "nothing"), expected \(expected.map(physical) ?? "unmapped")")
            }
            guard let t else { return "\(hex(va)) is not mapped" }
            let access = (t.writable ? "writable" : "read-only") + (t.user ? ", user" : ", kernel") + (t.executable ? ", executable" : "")
            return "\(hex(va)) → \(physical(t.physicalAddress)), \(t.pageSize) page at level \(t.level), \(t.flags.names), \(access)"
        case let .fork(name, strategy):
            guard !spaces.contains(where: { $0.name == name }) else { throw CheckFailed(description: "an address space named '\(name)' exists") }
            let child = try machine.fork(strategy)
            spaces.append((name, child))
            return "\(name): \(strategy == .eager ? "eager copy" : "copy-on-write") of \(currentName), root \(child.root)\(delta())"
        case let .switchTo(name):
            try machine.switchTo(try space(named: name))
            currentName = name
            return "CR3 = \(physical(machine.current.root.address))"
        case let .kill(name):
            try machine.kill(try space(named: name))
            spaces.removeAll { $0.name == name }
            return "killed \(name)\(delta())"
        case let .invalidatePage(va):
            machine.invalidatePage(va)
            return "TLB entry for \(hex(va & ~0xFFF)) dropped"
        case let .flush(global):
            machine.flushTLB(includingGlobal: global)
            return global ? "TLB flushed, global entries too" : "TLB flushed (global entries kept)"
        case let .invalidation(on):
            machine.invalidatesTLB = on
            return on ? "the kernel invalidates the TLB after each change" : "the kernel now forgets INVLPG: stale translations stay in the TLB"
        case .accounting:
            return machine.frames.accounting.description
        case .audit:
            let audit = machine.audit()
            guard audit.isClean else { throw CheckFailed(description: audit.problems) }
            return "clean: every frame is free or reachable from \(spaces.map(\.name).joined(separator: ", ")), and every shared page's count matches its mappings"
        }
    }

    func space(named name: String) throws(CheckFailed) -> AddressSpace {
        guard let entry = spaces.first(where: { $0.name == name }) else {
            throw CheckFailed(description: "no address space named '\(name)' (there are \(spaces.map(\.name).joined(separator: ", ")))")
        }
        return entry.space
    }
}

extension Machine.Audit {
    /// The audit's findings on one line.
    public var problems: String {
        var parts: [String] = []
        if !accounting.balances { parts.append("the accounting does not balance (\(accounting))") }
        let lists = [("unreachable tables", unreachableTables), ("frames used as tables but not allocated as tables", misusedTables),
                     ("reference count mismatches", referenceMismatches), ("unreachable data pages", unreachableData)]
        for (what, frames) in lists where !frames.isEmpty {
            parts.append("\(frames.count) \(what) (\(frames.prefix(4).map(\.description).joined(separator: ", "))\(frames.count > 4 ? ", …" : ""))")
        }
        return parts.isEmpty ? "clean" : parts.joined(separator: "; ")
    }
}

import Foundation
import Testing
@testable import SelfMapPaging

@Suite("paging sim: running scripts on the machine")
struct SimulationTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Examples/paging").standardized

    static func run(_ text: String, file: String = "t.sim") throws -> (Simulation, [Simulation.Outcome]) {
        let script = try SimulationScript(parsing: text, file: file)
        var outcomes: [Simulation.Outcome] = []
        let simulation = try Simulation.run(script) { outcomes.append($0) }
        return (simulation, outcomes)
    }

    @Test("every example script runs, and its machine audits clean",
          arguments: ["fork.sim", "tlb.sim", "faults.sim", "pae.sim"])
    func examples(name: String) throws {
        let text = try String(contentsOf: Self.examples.appendingPathComponent(name), encoding: .utf8)
        let (simulation, outcomes) = try Self.run(text, file: name)
        #expect(!outcomes.isEmpty)
        #expect(simulation.machine.audit().isClean)
    }

    @Test("fork with copy-on-write: the child's write copies the page, kill returns every frame")
    func copyOnWrite() throws {
        let (simulation, outcomes) = try Self.run("""
            frames 64
            store 0x400000 5
            fork child
            switch child
            store 0x400000 6
            load 0x400000 expect 6
            switch init
            load 0x400000 expect 5
            kill child
            """)
        let forked = outcomes[1].accounting, written = outcomes[3].accounting, killed = outcomes[7].accounting
        #expect(forked.shared == 1 && forked.data == 1)
        #expect(written.shared == 0 && written.data == 2)
        #expect(killed == outcomes[0].accounting)
        #expect(simulation.spaces.map(\.name) == ["init"])
    }

    @Test("the stale TLB entry appears only when the kernel forgets INVLPG")
    func staleTranslation() throws {
        let (_, outcomes) = try Self.run("""
            mode i386
            map 0x400000 0xE0000000 RW|US
            touch 0x400000
            invalidation off
            unmap 0x400000
            map 0x400000 0xE0001000 RW|US
            touch 0x400000
            invlpg 0x400000
            touch 0x400000
            """)
        #expect(outcomes[5].result.hasPrefix("0x00400000 → 0xE0000000"))
        #expect(outcomes[7].result.hasPrefix("0x00400000 → 0xE0001000"))
    }

    @Test("a map of many pages that fails part way leaves none of them mapped")
    func failedMapIsUndone() throws {
        let script = try SimulationScript(parsing: """
            map 0x403000 0xE0000000
            map 0x400000 0xE0000000 pages 8
            """, file: "t.sim")
        var simulation = try Simulation(script.settings)
        _ = try simulation.run(script.steps[0], file: script.file)
        let before = simulation.machine.frames.accounting
        #expect(throws: SimulationScriptError(file: "t.sim", line: 2, message: "map 0x400000 0xE0000000 pages 8: page 4 of 8: 0x403000 is already mapped")) {
            _ = try simulation.run(script.steps[1], file: script.file)
        }
        var machine = simulation.machine
        for k in 0..<3 { #expect(try machine.translate(0x40_0000 + UInt64(k) << 12) == nil) }
        #expect(machine.frames.accounting == before)
    }

    @Test("a '!' step must fail; a check that does not hold stops the script at its line", arguments: [
        ("! map 0x1000 0xE0000000", "t.sim:1: map 0x1000 0xE0000000: expected a failure, but it succeeded"),
        ("map 0x1000 0xE0000000 RW|US\nload 0x1000 expect 1", "t.sim:2: load 0x1000 expect 1: read 0x0, expected 0x1"),
        ("translate 0x1000 expect 0x2000", "t.sim:1: translate 0x1000 expect 0x2000: translates to nothing, expected 0x2000"),
        ("map 0x1000 0x300000", "t.sim:1: map 0x1000 0x300000: physical address 0x300000 lies in the RAM"),
        ("kill init", "t.sim:1: kill init: the address space is the current one"),
        ("switch nobody", "t.sim:1: switch nobody: no address space named 'nobody' (there are init)"),
        ("fork a\nfork a", "t.sim:2: fork a: an address space named 'a' exists"),
        ("touch 0xFFFF800000000000", "t.sim:1: touch 0xFFFF800000000000: unresolved #PF"),
        ("frames 8\ntouch 0x1000\ntouch 0x400000\ntouch 0x40000000\ntouch 0x8000000000", "t.sim:4: touch 0x40000000: out of physical frames"),
    ])
    func failures(text: String, expected: String) {
        do {
            _ = try Self.run(text)
            Issue.record("no error for \(text)")
        } catch {
            #expect("\(error)".hasPrefix(expected), "\(error)")
        }
    }

    @Test("'!' steps that fail change nothing and are reported as expected failures")
    func expectedFailures() throws {
        let (simulation, outcomes) = try Self.run("""
            map 0x1000 0xE0000000
            ! map 0x1000 0xE0001000
            ! unmap 0x2000
            ! store 0x1000 1
            """)
        #expect(outcomes.dropFirst().allSatisfy { $0.failedAsExpected })
        #expect(outcomes[1].result == "failed as expected: 0x1000 is already mapped")
        #expect(outcomes.map(\.accounting).allSatisfy { $0 == outcomes[0].accounting })
        #expect(simulation.machine.audit().isClean)
    }
}

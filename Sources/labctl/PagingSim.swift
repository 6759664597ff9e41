import ArgumentParser
import SelfMapPaging

extension Paging {
    struct Sim: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sim",
            abstract: "Run a script of map, unmap, touch, fork and kill on a simulated machine; print the frame accounting.",
            discussion: """
                One command per line; # starts a comment; a line that starts with ! must fail.
                Settings, before the first operation (they override --mode, --index, --frames, --tlb, --stlb):
                  mode i386|pae|x86_64|la57   index N   frames N   tlb N   stlb N
                Operations:
                  map VA PA [FLAGS] [pages N] [onfault]   FLAGS: RW|US|NX|G|PWT|PCD|… and 4K 2M 4M 1G
                  unmap VA [pages N]                      protect VA +FLAG -FLAG …
                  touch VA [read|write|exec] [user|kernel]  (faults create tables, demand-page, copy on write)
                  load VA [expect VALUE]   store VA VALUE   translate VA [expect PA|unmapped]
                  fork NAME [cow|eager]   switch NAME   kill NAME   (the first address space is init)
                  invlpg VA   flush [global]   invalidation on|off   accounting   audit
                map takes physical memory outside the simulated RAM (devices); programs get RAM by touch.
                After the last line the whole machine is audited with the direct walker.

                Example:
                  labctl paging sim Examples/paging/fork.sim
                """)

        @Argument(help: "The script ('-' for standard input).")
        var script: String

        @OptionGroup var modeOptions: Paging.ModeOptions

        @Option(help: "Frames of simulated RAM (4 KiB each, from 0x200000).")
        var frames = 4096

        @Option(help: "First-level TLB entries, 4-way set associative (0: no TLB at all).")
        var tlb = 64

        @Option(help: "Second-level TLB (STLB) entries, 4-way set associative (0: none).")
        var stlb = 2048

        @OptionGroup var output: OutputOptions

        struct Report: Encodable {
            let file: String
            let mode: PagingMode
            let selfMapIndex: Int
            let frames: Int
            let steps: [Simulation.Outcome]
            let accounting: FrameAccounting
            let addressSpaces: [String]
            let audit: String
        }

        func validate() throws {
            for (name, capacity) in [("--tlb", tlb), ("--stlb", stlb)] {
                guard capacity >= 0, capacity & (capacity &- 1) == 0, capacity <= TLB.maximumCapacity else {
                    throw ValidationError("\(name) must be 0 or a power of two up to \(TLB.maximumCapacity)")
                }
            }
            guard (8...SimulationScript.maximumFrames).contains(frames) else { throw ValidationError("--frames must be in 8...\(SimulationScript.maximumFrames)") }
        }

        func run() throws {
            let text = script == "-" ? String(decoding: StandardInput.readAll(), as: UTF8.self)
                : String(decoding: try FileBytes.read(script, limit: 1 << 26), as: UTF8.self)
            let defaults = SimulationScript.Settings(mode: modeOptions.mode, selfMapIndex: modeOptions.index, frames: frames,
                                                      tlbCapacity: tlb, secondLevelTLBCapacity: stlb)
            let parsed: SimulationScript
            do { parsed = try SimulationScript(parsing: text, file: script == "-" ? "<stdin>" : script, defaults: defaults) } catch {
                throw LabError(error.description)
            }
            var steps: [Simulation.Outcome] = []
            let simulation: Simulation
            do {
                simulation = try Simulation.run(parsed) { steps.append($0) }
            } catch {
                if !output.json && !steps.isEmpty { print(table(steps)) }
                throw LabError(error.description)
            }
            let machine = simulation.machine
            let audit = machine.audit()
            let report = Report(file: parsed.file, mode: machine.mode, selfMapIndex: machine.selfMap.index, frames: machine.frames.frameCount,
                                steps: steps, accounting: machine.frames.accounting, addressSpaces: simulation.spaces.map(\.name),
                                audit: audit.problems)
            try output.emit(report) {
                let ram = "RAM 0x\(String(machine.memory.base, radix: 16, uppercase: true))–0x\(String(machine.memory.end, radix: 16, uppercase: true))"
                print("\(parsed.file): \(machine.mode.rawValue), \(machine.selfMap.describeSlot), \(ram) (\(machine.frames.frameCount) frames)")
                if !steps.isEmpty { print(table(steps)) }
                print("end: \(machine.frames.accounting); address spaces: \(simulation.spaces.map(\.name).joined(separator: ", "))")
                print("audit: \(audit.problems)")
            }
            guard audit.isClean else {
                let hint = parsed.steps.contains { $0.command == .invalidation(false) } ? " (the kernel forgot INVLPG and wrote through stale translations)" : ""
                throw LabError("\(parsed.file): the final audit failed\(hint): \(audit.problems)")
            }
        }

        func table(_ steps: [Simulation.Outcome]) -> String {
            var table = TextTable(header: ["line", "command", "tables", "data", "shared", "free", "result"])
            for s in steps {
                table.add([String(s.line), (s.failedAsExpected ? "! " : "") + s.command,
                           String(s.accounting.tables), String(s.accounting.data), String(s.accounting.shared), String(s.accounting.free), s.result])
            }
            return table.render()
        }
    }
}

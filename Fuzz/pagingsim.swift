// libFuzzer target: the `paging sim` script parser and the simulated kernel it drives. Any input
// gives a script or a one-line error; a small script then runs, and whether it stops at an error
// or not, the machine's frame accounting must audit clean (nothing leaked, nothing double-freed)
// unless the script told the kernel to forget INVLPG.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPagingSim(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let script: SimulationScript
    do {
        script = try SimulationScript(parsing: text, file: "fuzz.sim", defaults: .init(frames: 256))
    } catch {
        precondition(!error.description.contains("\n"), "multi-line error")
        return 0
    }
    // Keep each input fast: a small machine and few pages.
    guard script.settings.frames <= 1024, script.steps.count <= 64 else { return 0 }
    for step in script.steps {
        switch step.command {
        case .map(_, _, _, _, let count, _), .unmap(_, let count): if count > 64 { return 0 }
        default: break
        }
    }
    guard var simulation = try? Simulation(script.settings) else { return 0 }
    for step in script.steps {
        do { _ = try simulation.run(step, file: script.file) } catch {
            precondition(!error.description.contains("\n"), "multi-line error")
            precondition(error.line == step.line, "error names the wrong line")
            break
        }
    }
    // A kernel that forgets INVLPG may write through stale translations into tables it freed:
    // that is what the switch demonstrates, so only a kernel that invalidates must audit clean.
    let forgetful = script.steps.contains { $0.command == .invalidation(false) }
    let audit = simulation.machine.audit()
    precondition(forgetful || audit.isClean, "audit: \(audit.problems)")
    return 0
}

import Foundation
import Testing

/// The VM harness itself: a guest script's status and output reach the caller.
/// (WireGuardKernelTests boots the same harness for the kernel scenarios.)
@Suite struct VMSmokeTests {
    @Test func failingScriptStatusReachesTheCaller() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("labctl-vm-fail-\(getpid()).sh")
        try "echo before; exit 7\n".write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let r = try run(packageRoot.appendingPathComponent("scripts/vm/run").path, [script.path],
                        environment: ["LABCTL": labctlPath])
        #expect(r.status == 7)
        #expect(r.stdout == "before\n")
    }
}

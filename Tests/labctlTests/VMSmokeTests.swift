import Foundation
import Testing

/// Boots Debian's kernel once through scripts/vm/run and checks the harness end to end.
@Suite struct VMSmokeTests {
    @Test func wireguardLinkAndKeysInsideTheVM() throws {
        let script = packageRoot.appendingPathComponent("Tests/labctlTests/VM/smoke.sh").path
        let r = try run(packageRoot.appendingPathComponent("scripts/vm/run").path, [script],
                        environment: ["LABCTL": labctlPath])
        #expect(r.status == 0, "vm/run: \(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("wg0: <POINTOPOINT,NOARP>"))
        #expect(r.stdout.contains("pubkey: same"))
        #expect(r.stdout.contains("kernel: 6."))
    }

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

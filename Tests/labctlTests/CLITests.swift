import Foundation
import Testing

@Suite struct CLIConventionTests {
    @Test(arguments: ["wg", "vrrp", "paging", "device", "lab"])
    func helpShowsAnExample(subcommand: String) throws {
        let r = try labctl(subcommand, "--help")
        #expect(r.status == 0)
        #expect(r.stdout.contains("Example"))
        #expect(r.stdout.contains("labctl \(subcommand)"))
    }

    @Test func errorsAreOneLineOnStderr() throws {
        for args in [["paging", "addresses", "--mode", "sparc"], ["vrrp", "timers", "--advert-int", "0.001"], ["nonsense"],
                     ["paging", "walk", "0x800000000000"], ["device", "--root", "/nonexistent"], ["device", "cpu", "--root", "/nonexistent"]] {
            let r = try run(labctlPath, args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stdout.isEmpty, "\(args)")
            #expect(r.stderr.hasPrefix("labctl: error: "), "\(args): \(r.stderr)")
            #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(args): \(r.stderr)")
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(shell: String) throws {
        let r = try labctl("--generate-completion-script", shell)
        #expect(r.status == 0)
        #expect(r.stdout.contains("paging"))
        #expect(r.stdout.contains("genkey"))
    }
}

@Suite struct WGCommandTests {
    /// labctl and wg derive the same public key from the same private key, both ways.
    @Test func pubkeyMatchesWg() throws {
        for _ in 0..<5 {
            let mine = try labctl("wg", "genkey")
            #expect(mine.status == 0)
            let theirs = try run("/usr/bin/wg", ["genkey"])
            for privateKey in [mine.stdout, theirs.stdout] {
                let a = try labctl("wg", "pubkey", input: privateKey)
                let b = try run("/usr/bin/wg", ["pubkey"], input: privateKey)
                #expect(a.status == 0 && b.status == 0)
                #expect(a.stdout == b.stdout)
            }
        }
    }

    @Test func genpskIsAValidKey() throws {
        let r = try labctl("wg", "genpsk")
        #expect(r.status == 0)
        #expect(r.stdout.count == 45 && r.stdout.hasSuffix("=\n"))
        // wg accepts it as a key.
        #expect(try run("/usr/bin/wg", ["pubkey"], input: r.stdout).status == 0)
    }

    @Test func pubkeyRejectsLikeWg() throws {
        for bad in ["short", "YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEI= trailing", "YIEDx+A2ONo5+uv3mrk/p7ileL3T5QQ8hleQK0IYEEJ="] {
            let ours = try labctl("wg", "pubkey", input: bad)
            let theirs = try run("/usr/bin/wg", ["pubkey"], input: bad)
            #expect(ours.status != 0 && theirs.status != 0, "\(bad)")
            #expect(ours.stderr.hasPrefix("labctl: error: "))
        }
    }
}

@Suite struct PagingCommandTests {
    @Test func addressesJSONForX86_64() throws {
        let r = try labctl("paging", "addresses", "--mode", "x86_64", "--json")
        #expect(r.status == 0)
        let root = try #require(try json(r.stdout) as? [String: Any])
        let regions = try #require(root["regions"] as? [[String: Any]])
        #expect(regions.compactMap { $0["first"] as? String } == [
            "0xFFFFFF8000000000", "0xFFFFFFFFC0000000", "0xFFFFFFFFFFE00000", "0xFFFFFFFFFFFFF000",
        ])
    }

    @Test func simRunsAScriptAndPrintsTheAccounting() throws {
        let script = packageRoot.appendingPathComponent("Examples/paging/fork.sim").path
        let text = try labctl("paging", "sim", script)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("kill child") && text.stdout.hasSuffix("audit: clean\n"))
        let r = try labctl("paging", "sim", script, "--json")
        let root = try #require(try json(r.stdout) as? [String: Any])
        let steps = try #require(root["steps"] as? [[String: Any]])
        #expect(steps.count == 15 && root["audit"] as? String == "clean" && root["addressSpaces"] as? [String] == ["init"])
        let last = try #require(root["accounting"] as? [String: Any])
        #expect(last["total"] as? Int == 512 && last["shared"] as? Int == 0)
    }

    @Test func simErrorsNameTheFileAndLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("labctl-sim-\(getpid()).sim").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        for (text, expected) in [("map 0x1000 0xE0000000\nmap 0x1000 0xE0000000\n", "\(file):2: map 0x1000 0xE0000000: 0x1000 is already mapped"),
                                 ("\nmap 0x1000 RW\n", "\(file):2: 'RW' is not a physical address")] {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let r = try run(labctlPath, ["paging", "sim", file])
            #expect(r.status != 0)
            #expect(r.stderr.hasPrefix("labctl: error: \(expected)"), "\(r.stderr)")
            #expect(r.stderr.filter { $0 == "\n" }.count == 1)
        }
        let stdin = try labctl("paging", "sim", "-", "--mode", "i386", input: "translate 0xC0000000 expect unmapped\n")
        #expect(stdin.status == 0 && stdin.stdout.hasPrefix("<stdin>: i386"))
    }

    @Test(arguments: ["i386", "pae", "x86_64", "la57"])
    func addressesTextForEveryMode(mode: String) throws {
        let r = try labctl("paging", "addresses", "--mode", mode)
        #expect(r.status == 0)
        #expect(r.stdout.contains("PGT"))
    }
}

@Suite struct DeviceCommandTests {
    /// The live report agrees with procps' free and coreutils' uname.
    @Test func liveReportMatchesFreeAndUname() throws {
        let r = try labctl("device", "--json")
        #expect(r.status == 0)
        let root = try #require(try json(r.stdout) as? [String: Any])
        let memory = try #require(root["memory"] as? [String: Any])
        let free = try run("/usr/bin/free", ["-k"])
        let mem = try #require(free.stdout.split(separator: "\n").first { $0.hasPrefix("Mem:") })
        let cols = mem.split(separator: " ").dropFirst().compactMap { Int($0) }
        #expect(cols.count == 6)
        #expect(memory["totalKiB"] as? Int == cols[0])
        // The rest moves between the two reads; allow 64 MiB.
        for (key, column) in [("usedKiB", 1), ("freeKiB", 2), ("buffCacheKiB", 4), ("availableKiB", 5)] {
            let value = try #require(memory[key] as? Int)
            #expect(abs(value - cols[column]) < 65536, "\(key)")
        }
        let uname = try #require(root["uname"] as? [String: Any])
        let unameA = try run("/usr/bin/uname", ["-a"]).stdout
        let expected = ["sysname", "nodename", "release", "version", "machine"].compactMap { uname[$0] as? String }.joined(separator: " ")
        #expect(unameA.hasPrefix(expected))
    }

    @Test func textReportHasEverySection() throws {
        let r = try labctl("device")
        #expect(r.status == 0)
        for section in ["SoC", "CPU", "Memory", "Kernel", "Command line"] {
            #expect(r.stdout.contains("\n\(section)"), "\(section)")
        }
    }
}

@Suite struct LabCommandTests {
    @Test func tourRunsEveryModule() throws {
        let r = try labctl("lab", "tour")
        #expect(r.status == 0)
        for module in ["WGNetlink", "VRRP", "SelfMapPaging", "DeviceInfo"] {
            #expect(r.stdout.contains("== \(module)"))
        }
    }
}

@Suite struct DeviceCPUAgainstLscpuTests {
    /// Every field labctl prints on this machine is printed identically by lscpu.
    @Test func liveSummaryMatchesLscpu() throws {
        let ours = try labctl("device", "cpu")
        #expect(ours.status == 0)
        let theirs = try run("/usr/bin/lscpu", [])
        let a = lscpuFields(ours.stdout), b = lscpuFields(theirs.stdout)
        #expect(a.count >= 9)
        for (name, value) in a {
            #expect(b[name] == value, "\(name): labctl '\(value)' lscpu '\(b[name] ?? "-")'")
        }
    }

    @Test func exampleReportHasTheM5Facts() throws {
        let r = try labctl("device", "--example", "netgear-m5")
        #expect(r.status == 0)
        #expect(r.stdout.contains("SDX55 (Qualcomm vendor kernels: SDXPRAIRIE)"))
        #expect(r.stdout.contains("Cortex-A7"))
        #expect(r.stdout.contains("11:MPSS.HI.2.0.c3.5-00010-SDX55_CPEALL_PACK-1.403198.3"))
        let bad = try labctl("device", "--example", "nope")
        #expect(bad.status != 0)
        #expect(bad.stderr.hasPrefix("labctl: error: no example 'nope'"))
    }
}

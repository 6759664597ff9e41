import Foundation
import Testing

/// lscpu-style `Name: value` lines as a dictionary.
func lscpuFields(_ text: String) -> [String: String] {
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        out[String(line[..<colon]).trimmingCharacters(in: .whitespaces)] =
            String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
    }
    return out
}

/// A scratch directory removed when the value is dropped.
final class ScratchDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("labctl-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct DeviceDumpTests {
    static let fixtures = packageRoot.appendingPathComponent("Tests/labctlTests/Fixtures").path

    /// A dump captured from this machine and one captured from a real AMD EPYC guest (shipped):
    /// labctl on the .tar.gz prints exactly what lscpu prints on the unpacked tree.
    @Test(arguments: ["live", "amd-epyc-kvm.tar.gz"])
    func dumpSummaryEqualsLscpuSysroot(fixture: String) throws {
        let scratch = try ScratchDirectory()
        var dump = "\(Self.fixtures)/\(fixture)"
        if fixture == "live" {
            dump = scratch.path + "/live.tar.gz"
            let captured = try labctl("device", "capture", dump)
            #expect(captured.status == 0, "\(captured.stderr)")
            let attributes = try FileManager.default.attributesOfItem(atPath: dump)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        let root = scratch.path + "/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        #expect(try run("/usr/bin/tar", ["xzf", dump, "-C", root]).status == 0)
        let ours = try labctl("device", "cpu", "--dump", dump)
        #expect(ours.status == 0, "\(ours.stderr)")
        let theirs = try run("/usr/bin/lscpu", ["--sysroot", root])
        #expect(theirs.status == 0, "\(theirs.stderr)")
        let a = lscpuFields(ours.stdout), b = lscpuFields(theirs.stdout)
        #expect(a.count >= 15)
        for (name, value) in a {
            #expect(b[name] == value, "\(name): labctl '\(value)' lscpu '\(b[name] ?? "-")'")
        }
        #expect(Set(b.keys).subtracting(a.keys).isEmpty, "lscpu only: \(Set(b.keys).subtracting(a.keys))")
        let full = try labctl("device", "--dump", dump, "--json")
        #expect(full.status == 0)
        let report = try #require(try json(full.stdout) as? [String: Any])
        #expect((report["memory"] as? [String: Any])?["totalKiB"] as? Int ?? 0 > 0)
        #expect(report["topology"] is [String: Any])
    }

    /// Archives made with GNU tar that try to escape, or that are too big, are refused with one line.
    @Test(arguments: [
        ("dotdot", "leaves the dump through '..'"),
        ("absolute", "has an absolute path"),
        ("symlink", "points outside the dump"),
        ("huge", "the limit is 4194304"),
        ("garbage", "gzip:"),
    ])
    func hostileArchivesAreRejected(kind: String, message: String) throws {
        let scratch = try ScratchDirectory()
        let dir = scratch.path
        let archive = "\(dir)/evil.tar.gz"
        try "processor : 0\n".write(toFile: "\(dir)/cpuinfo", atomically: true, encoding: .utf8)
        var tar: [String]
        switch kind {
        case "dotdot": tar = ["czf", archive, "-C", dir, "--transform", "s,^,../../,", "cpuinfo"]
        case "absolute": tar = ["czPf", archive, "\(dir)/cpuinfo"]
        case "symlink":
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/passwd", withDestinationPath: "/etc/passwd")
            tar = ["czf", archive, "-C", dir, "cpuinfo", "passwd"]
        case "huge":
            #expect(try run("/usr/bin/truncate", ["-s", "5M", "\(dir)/big"]).status == 0)
            tar = ["czf", archive, "-C", dir, "big"]
        default:
            try Data([0x1F, 0x8B, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]).write(to: URL(fileURLWithPath: archive))
            tar = []
        }
        if !tar.isEmpty { #expect(try run("/usr/bin/tar", tar).status == 0) }
        let r = try labctl("device", "--dump", archive)
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("labctl: error: \(archive): "))
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func missingDumpIsOneLine() throws {
        let r = try labctl("device", "--dump", "/nonexistent/x.tar.gz")
        #expect(r.status != 0)
        #expect(r.stderr == "labctl: error: /nonexistent/x.tar.gz: No such file or directory\n")
    }

    /// With --root, absolute and climbing symlinks resolve inside the root, never on the host.
    @Test func rootSymlinksStayInsideTheRoot() throws {
        let scratch = try ScratchDirectory()
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch.path + "/proc", withIntermediateDirectories: true)
        try "processor\t: 0\nmodel name\t: Inside\n".write(toFile: scratch.path + "/proc/cpuinfo", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: scratch.path + "/proc/meminfo", withDestinationPath: "/proc/meminfo")
        try fm.createSymbolicLink(atPath: scratch.path + "/proc/version", withDestinationPath: "../../../../../../proc/version")
        let r = try labctl("device", "--root", scratch.path, "--json")
        #expect(r.status == 0)
        let report = try #require(try json(r.stdout) as? [String: Any])
        #expect((report["memory"] as? [String: String])?["unavailable"] != nil)
        #expect((report["kernelVersion"] as? [String: String])?["unavailable"] != nil)
        #expect(r.stdout.contains("Inside"))
    }
}

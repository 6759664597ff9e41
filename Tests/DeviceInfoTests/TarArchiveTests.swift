import Testing
import DeviceInfo

/// A ustar header built by hand, for entries TarWriter would never write.
func tarHeader(name: String, type: UInt8 = 0x30, size: Int = 0, link: String = "") -> [UInt8] {
    var h = [UInt8](repeating: 0, count: 512)
    func put(_ s: String, _ at: Int) { for (i, b) in s.utf8.enumerated() { h[at + i] = b } }
    put(name, 0)
    put("0000644", 100)
    put(String(repeating: "0", count: max(0, 11 - String(size, radix: 8).count)) + String(size, radix: 8), 124)
    put("00000000000", 136)
    h[156] = type
    put(link, 157)
    put("ustar\u{0}00", 257)
    for i in 148..<156 { h[i] = 0x20 }
    let sum = String(h.reduce(0) { $0 + Int($1) }, radix: 8)
    put(String(repeating: "0", count: 6 - sum.count) + sum, 148)
    h[154] = 0
    return h
}

struct TarArchiveTests {
    @Test func writerOutputReadsBack() throws {
        var writer = TarWriter(modificationTime: 1_700_000_000)
        let long = "/sys/devices/system/cpu/cpu0/cache/index0/" + String(repeating: "deep/", count: 20) + "size"
        writer.add(path: "/proc/cpuinfo", contents: Array("processor : 0\n".utf8))
        writer.add(path: long, contents: Array(repeating: 7, count: 1000))
        writer.add(path: "/empty", contents: [])
        let files = try TarArchive.read(writer.finished())
        #expect(files["/proc/cpuinfo"] == Array("processor : 0\n".utf8))
        #expect(files[long]?.count == 1000)
        #expect(files["/empty"] == [])
    }

    @Test func dumpSourceReadsGzip() throws {
        let (archive, count) = DeviceCapture.archive(of: DeviceExamples.netgearM5, modificationTime: 0)
        #expect(count > 10)
        let dump = try DumpSource(archive: archive, label: "m5")
        #expect(DeviceReport(from: dump).soc == DeviceReport(from: DeviceExamples.netgearM5).soc)
        #expect(dump.read("/proc/cpuinfo") == DeviceExamples.netgearM5.read("/proc/cpuinfo"))
    }

    @Test func gzipMembersAfterTheFirstAndBombsInflateWithinTheLimit() throws {
        let (archive, _) = DeviceCapture.archive(of: DeviceExamples.netgearM5, modificationTime: 0)
        // An empty member after the dump: its trailer's size (0) is no guide to the whole output.
        let emptyMember: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let concatenated = try DumpSource(archive: archive + emptyMember, label: "m5")
        #expect(concatenated.files == (try DumpSource(archive: archive, label: "m5")).files)
        let zeros = MemorySource(label: "bomb", files: ["/proc/cpuinfo": [UInt8](repeating: 0, count: 12 << 20)])
        let (bomb, _) = DeviceCapture.archive(of: zeros, modificationTime: 0)
        #expect(bomb.count < 64 << 10)
        let small = DumpLimits(fileBytes: 4 << 20, totalBytes: 8 << 20, entries: 100)
        #expect(throws: DumpError.archiveTooLarge(limit: small.totalBytes + 100 * 1024)) {
            try DumpSource(archive: bomb, label: "bomb", limits: small)
        }
    }

    @Test(arguments: [
        ("../etc/passwd", "leaves the dump"),
        ("proc/../../x", "leaves the dump"),
        ("/etc/passwd", "absolute path"),
    ])
    func hostilePathsAreRejected(name: String, message: String) {
        let archive = tarHeader(name: name, size: 1) + [0x41] + [UInt8](repeating: 0, count: 511 + 1024)
        #expect { try TarArchive.read(archive) } throws: { "\($0)".contains(message) && "\($0)".contains(name) }
    }

    @Test(arguments: [
        ("proc/cpuinfo", "/proc/cpuinfo"),
        ("./proc//cpuinfo", "/proc/cpuinfo"),
        ("proc/./cpuinfo/", "/proc/cpuinfo"),
        (".hidden/..x/.../a", "/.hidden/..x/.../a"),
        ("a", "/a"),
    ])
    func entryNamesBecomeDevicePaths(name: String, path: String) throws {
        let archive = tarHeader(name: name, size: 1) + [0x41] + [UInt8](repeating: 0, count: 511 + 1024)
        #expect(try TarArchive.read(archive) == [path: [0x41]])
    }

    @Test func symlinksOutOfTheDumpAreRejectedAndInsideOnesIgnored() throws {
        let outside = tarHeader(name: "proc/cpuinfo", type: 0x32, link: "/etc/shadow") + [UInt8](repeating: 0, count: 1024)
        #expect { try TarArchive.read(outside) } throws: { "\($0)".contains("points outside the dump") }
        let climbing = tarHeader(name: "a/link", type: 0x32, link: "../../x") + [UInt8](repeating: 0, count: 1024)
        #expect(throws: DumpError.symlinkOutside(entry: "a/link", target: "../../x")) { try TarArchive.read(climbing) }
        let inside = tarHeader(name: "sys/devices/soc0/subsystem", type: 0x32, link: "../../bus/soc") + [UInt8](repeating: 0, count: 1024)
        #expect(try TarArchive.read(inside).isEmpty)
    }

    @Test func hugeEntriesAndBombsAreRejected() throws {
        let huge = tarHeader(name: "proc/kcore", size: 1 << 33) + [UInt8](repeating: 0, count: 1024)
        #expect(throws: DumpError.entryTooLarge(entry: "proc/kcore", size: 1 << 33, limit: 4 << 20)) { try TarArchive.read(huge) }
        var writer = TarWriter(modificationTime: 0)
        for i in 0..<20 { writer.add(path: "/f\(i)", contents: [UInt8](repeating: 0, count: 1 << 20)) }
        let (bomb, _) = (writer.finished(), 0)
        let small = DumpLimits(fileBytes: 4 << 20, totalBytes: 8 << 20, entries: 100)
        #expect(throws: DumpError.archiveTooLarge(limit: 8 << 20)) { try TarArchive.read(bomb, limits: small) }
    }

    /// The dump is read in place as one table sorted by path: of two entries with one path the
    /// later stays (as tar itself extracts them), and a hard link reads its target's bytes.
    @Test func laterEntriesWinAndHardLinksReadTheirTarget() throws {
        let archive = tarHeader(name: "./proc/version", size: 3) + pad(Array("old".utf8))
            + tarHeader(name: "proc/cpuinfo", size: 2) + pad(Array("c0".utf8))
            + tarHeader(name: "proc//version", size: 3) + pad(Array("new".utf8))
            + tarHeader(name: "target", type: 0x31, link: "./proc/cpuinfo")
            + tarHeader(name: "missing", type: 0x31, link: "proc/nothing") + [UInt8](repeating: 0, count: 1024)
        #expect(throws: DumpError.hardlinkTarget(entry: "missing", target: "/proc/nothing")) { try TarArchive.read(archive) }
        let good = Array(archive[..<(7 * 512)]) + [UInt8](repeating: 0, count: 1024)  // without "missing"
        let files = try TarArchive.read(good)
        #expect(files == ["/proc/version": Array("new".utf8), "/proc/cpuinfo": Array("c0".utf8), "/target": Array("c0".utf8)])
        let dump = try DumpSource(archive: good, label: "t")
        #expect(dump.read("/proc/version") == .success(Array("new".utf8)))
        #expect(dump.read("/proc/versio") == .failure(.missing))
        #expect(dump.list("/") == ["proc", "target"])
        #expect(dump.list("/proc") == ["cpuinfo", "version"])
    }

    @Test func manyHardLinksEachReadTheirOwnTarget() throws {
        var archive: [UInt8] = []
        for i in 0..<2000 {
            let contents = Array("file \(i)".utf8)
            archive += tarHeader(name: "f/\(i)", size: contents.count) + pad(contents)
            archive += tarHeader(name: "l/\(i)", type: 0x31, link: "f/\(i)")
        }
        archive += tarHeader(name: "l/again", type: 0x31, link: "l/1999") + [UInt8](repeating: 0, count: 1024)
        let dump = try DumpSource(archive: archive, label: "links")
        for i in [0, 1, 999, 1999] { #expect(dump.read("/l/\(i)") == .success(Array("file \(i)".utf8))) }
        #expect(dump.read("/l/again") == .success(Array("file 1999".utf8)))
        #expect(dump.list("/l").count == 2001)
    }

    private func pad(_ data: [UInt8]) -> [UInt8] { data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512) }

    @Test func corruptAndTruncatedArchivesGiveOneLineErrors() {
        var bad = tarHeader(name: "proc/version", size: 4) + Array("abcd".utf8) + [UInt8](repeating: 0, count: 508 + 1024)
        bad[0] = 0x51
        #expect { try TarArchive.read(bad) } throws: { "\($0)".contains("checksum") }
        let truncated = Array(tarHeader(name: "proc/version", size: 4000) + [1, 2, 3])
        #expect(throws: DumpError.truncated(entry: "proc/version")) { try TarArchive.read(truncated) }
        #expect(throws: DumpError.self) { try DumpSource(archive: [0x1F, 0x8B, 8, 0, 0, 0], label: "x") }
        #expect(throws: DumpError.self) { try DumpSource(archive: [], label: "x") }
    }
}

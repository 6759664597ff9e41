import Testing
import DeviceInfo

/// `/proc/cpuinfo` of the Netgear Nighthawk M5 (Qualcomm SDX55), as the shipped example holds it.
let m5CPUInfo = String(decoding: DeviceExamples.netgearM5.files["/proc/cpuinfo"] ?? [], as: UTF8.self)

struct CPUInfoTests {
    @Test func m5SplitsProcessorAndGlobalLines() {
        let cpu = CPUInfo(parsing: m5CPUInfo)
        #expect(cpu.processors.count == 1)
        #expect(cpu.modelName == "ARMv7 Processor rev 5 (v7l)")
        #expect(cpu.value("CPU part") == "0xc07")
        #expect(cpu.value("Hardware") == "Qualcomm Technologies, Inc SDXPRAIRIE")
        #expect(cpu.global.map(\.key) == ["Hardware", "Revision", "Serial"])
    }

    @Test func legacyArmProcessorLine() {
        let text = "Processor\t: ARMv7 Processor rev 10 (v7l)\nprocessor\t: 0\nBogoMIPS\t: 790.52\n\nprocessor\t: 1\nBogoMIPS\t: 790.52\n\nHardware\t: Freescale i.MX6\n"
        let cpu = CPUInfo(parsing: text)
        #expect(cpu.processors.count == 2)
        #expect(cpu.modelName == "ARMv7 Processor rev 10 (v7l)")
    }

    @Test func garbageNeverCrashes() {
        for text in ["", ":", "\n\n\n", "processor", "processor:\n:x\n\u{0}\u{1}", String(repeating: "a:b\n", count: 1000)] {
            _ = CPUInfo(parsing: text).modelName
        }
    }
}

struct MemoryInfoTests {
    static let sample = """
        MemTotal:       24684096 kB
        MemFree:        23642352 kB
        MemAvailable:   24332036 kB
        Buffers:           27676 kB
        Cached:           831908 kB
        SwapTotal:        111616 kB
        SwapFree:         111616 kB
        Shmem:              8788 kB
        SReclaimable:      98304 kB
        HugePages_Total:       0
        """

    /// `free -k` printed, for this meminfo: used 352060, buff/cache 957888.
    @Test func procpsFormulas() throws {
        let m = try #require(MemoryInfo(parsing: Self.sample))
        #expect(m.totalKiB == 24_684_096)
        #expect(m.usedKiB == 352_060)
        #expect(m.buffCacheKiB == 957_888)
        #expect(m.availableKiB == 24_332_036)
        #expect(m.sharedKiB == 8_788)
        #expect(m.swapUsedKiB == 0)
        #expect(m.fields["HugePages_Total"] == 0)
    }

    @Test func oldKernelsWithoutMemAvailable() throws {
        let m = try #require(MemoryInfo(parsing: "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\n"))
        #expect(m.availableKiB == 350)
        #expect(m.usedKiB == 650)
    }

    @Test func missingTotalIsNil() {
        #expect(MemoryInfo(parsing: "MemFree: 1 kB\n") == nil)
        #expect(MemoryInfo(parsing: "garbage") == nil)
    }

    /// The parser reads numbers on bytes; each value is the one `UInt64(String)` gives, and a line
    /// with a value it refuses, or with a unit other than kB, is left out.
    @Test(arguments: ["0", "+5", "-0", "-5", "05", "+", "-", "18446744073709551615", "18446744073709551616", "1x", "x1", "١"])
    func numbersAsUInt64ReadsThem(value: String) throws {
        let m = try #require(MemoryInfo(parsing: "MemTotal: 1 kB\nX: \(value) kB\nY:\t\(value)\nZ: \(value) MB\nW \(value) kB\n"))
        #expect(m.fields["X"] == UInt64(value))
        #expect(m.fields["Y"] == nil)  // a tab is not a separator: "\t5" is no number
        #expect(m.fields["Z"] == nil)
        #expect(m.fields.count == 1 + (UInt64(value) == nil ? 0 : 1))
    }
}

struct KernelInfoTests {
    @Test func m5ProcVersion() {
        let v = KernelVersion(parsing: "Linux version 4.14.117 (oe-user@oe-host) (clang version 6.0.9 for Android NDK) #1 PREEMPT Thu Aug 19 23:42:26 UTC 2021")
        #expect(v.release == "4.14.117")
        #expect(v.builder == "oe-user@oe-host")
        #expect(v.compiler == "clang version 6.0.9 for Android NDK")
        #expect(v.build == "#1 PREEMPT Thu Aug 19 23:42:26 UTC 2021")
    }

    @Test func nestedParenthesesInCompiler() {
        let v = KernelVersion(parsing: "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2")
        #expect(v.compiler == "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40")
        #expect(v.build == "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2")
        let open = KernelVersion(parsing: "Linux version 5.0 (ü@host) (cc (x) #1 ")
        #expect(open.builder == "ü@host" && open.compiler == nil && open.build == "(cc (x) #1")
        let bare = KernelVersion(parsing: "Linux version 5.0")
        #expect(bare.release == "5.0" && bare.builder == nil && bare.build == nil)
    }

    @Test func commandLineQuotesAndRepeats() {
        let c = KernelCommandLine(parsing: "console=ttyMSM0,115200,n8 rw dyndbg=\"file a.c +p\" console=tty0\n")
        #expect(c.values("console") == ["ttyMSM0,115200,n8", "tty0"])
        #expect(c.values("dyndbg") == ["file a.c +p"])
        #expect(c.parameters.contains { $0.key == "rw" && $0.value == nil })
        let odd = KernelCommandLine(parsing: "\t\"\"  a\"b c\"d=e\"f\" \"k\"=v x==y -- --z\n")
        #expect(odd.parameters.map { "\($0.key)|\($0.value ?? "-")" } == ["ab cd|ef", "k|v", "x|=y", "--|-", "--z|-"])
    }
}

import Testing
import DeviceInfo

struct CPUTopologyTests {
    @Test func cpuListsParseAndFormatLikeTheKernelAndLscpu() {
        #expect(CPUTopology.parseList("0-3,8,10-11\n") == [0, 1, 2, 3, 8, 10, 11])
        #expect(CPUTopology.parseList("") == [])
        #expect(CPUTopology.parseList("3-1") == nil)
        #expect(CPUTopology.parseList("0-99999999") == nil)
        #expect(CPUTopology.parseList("x") == nil)
        #expect(CPUTopology.parseList(" 1, 3 -4\n") == [1, 3, 4])
        #expect(CPUTopology.parseList("\n") == [])
        for garbage in [",", "1,", ",1", "1-", "-1", "1-2-3", "1--2", "1;2", "99999999999999999999"] {
            #expect(CPUTopology.parseList(garbage) == nil, "\(garbage)")
        }
        #expect(CPUTopology.formatList([0, 1]) == "0,1")
        #expect(CPUTopology.formatList([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10,11")
    }

    @Test func sizesRenderAsUtilLinuxDoes() {
        #expect(CPUTopology.humanSize(64 << 10) == "64 KiB")
        #expect(CPUTopology.humanSize(3 << 19) == "1.5 MiB")
        #expect(CPUTopology.humanSize(32 << 20) == "32 MiB")
        #expect(CPUTopology.humanSize(1000) == "1000 B")
    }

    /// A big.LITTLE board on an old ARM kernel: clusters, not sockets, and per-cluster L2.
    static let bigLittle: MemorySource = {
        var files: [String: String] = ["/sys/devices/system/cpu/online": "0-5", "/sys/devices/system/node/node0/cpulist": "0-5"]
        for n in 0..<6 {
            let base = "/sys/devices/system/cpu/cpu\(n)"
            let cluster = n < 4 ? "0-3" : "4-5"
            files["\(base)/topology/physical_package_id"] = "-1"
            files["\(base)/topology/core_id"] = String(n % 4)
            files["\(base)/topology/thread_siblings_list"] = String(n)
            files["\(base)/topology/core_siblings_list"] = cluster
            files["\(base)/cache/index0/level"] = "1"
            files["\(base)/cache/index0/type"] = "Data"
            files["\(base)/cache/index0/size"] = "32K"
            files["\(base)/cache/index0/shared_cpu_list"] = String(n)
            files["\(base)/cache/index1/level"] = "2"
            files["\(base)/cache/index1/type"] = "Unified"
            files["\(base)/cache/index1/size"] = n < 4 ? "512K" : "1024K"
            files["\(base)/cache/index1/shared_cpu_list"] = cluster
            files["\(base)/cpufreq/cpuinfo_max_freq"] = n < 4 ? "1416000" : "1800000"
            files["\(base)/cpufreq/cpuinfo_min_freq"] = "408000"
        }
        files["/proc/cpuinfo"] = (0..<6).map { "processor\t: \($0)\nCPU implementer\t: 0x41\nCPU variant\t: 0x0\nCPU part\t: \($0 < 4 ? "0xd03" : "0xd08")\nCPU revision\t: 4\n" }.joined(separator: "\n")
        return MemorySource(label: "rk3399", textFiles: files)
    }()

    @Test func clustersCachesAndFrequencies() throws {
        let report = DeviceReport(from: Self.bigLittle)
        let topology = try #require(report.topology.value)
        #expect(topology.online == Array(0...5))
        #expect(topology.caches.map(\.name) == ["L1d", "L2"])
        #expect(topology.caches[0].instances == 6)
        #expect(topology.caches[1].instances == 2)
        let summary = try #require(report.cpuSummary)
        #expect(summary.value("Core(s) per cluster") == "3")
        #expect(summary.value("Cluster(s)") == "2")
        #expect(summary.value("Thread(s) per core") == "1")
        #expect(summary.value("L1d cache") == "192 KiB (6 instances)")
        #expect(summary.value("CPU max MHz") == "1800.0000")
        #expect(summary.value("CPU min MHz") == "408.0000")
        #expect(summary.value("On-line CPU(s) list") == "0-5")
        #expect(summary.value("NUMA node0 CPU(s)") == "0-5")
        #expect(summary.value("Stepping") == "r0p4")
    }

    @Test func summaryAloneIsTheReportsSummary() {
        for source in [Self.bigLittle, DeviceExamples.netgearM5] {
            #expect(CPUSummary(from: source) == DeviceReport(from: source).cpuSummary)
        }
        #expect(CPUSummary(from: MemorySource(label: "empty", textFiles: [:])) == nil)
    }

    @Test func missingOrGarbageTopologyIsUnavailableNotACrash() {
        #expect(DeviceReport(from: MemorySource(label: "empty", textFiles: [:])).topology.value == nil)
        let garbage = MemorySource(label: "garbage", textFiles: [
            "/sys/devices/system/cpu/cpu0/topology/thread_siblings_list": "zz",
            "/sys/devices/system/cpu/online": "9-1",
            "/sys/devices/system/cpu/cpu0/cache/index0/size": "-5K",
        ])
        #expect(DeviceReport(from: garbage).topology.value?.cpus.count == 1)
    }
}

struct OtherArchitectureTests {
    @Test func riscv() {
        let cpu = CPUInfo(parsing: "processor\t: 0\nhart\t\t: 1\nisa\t\t: rv64imafdc_zicsr_zifencei\nmmu\t\t: sv39\nuarch\t\t: sifive,u74-mc\nmvendorid\t: 0x489\n")
        let s = CPUSummary(cpu: cpu)
        #expect(s.value("Architecture") == "riscv64")
        #expect(s.value("Byte Order") == "Little Endian")
        #expect(s.value("Model name") == "sifive,u74-mc")
        #expect(s.value("Vendor ID") == "0x489")
        #expect(s.value("Flags") == "rv64imafdc_zicsr_zifencei")
    }

    @Test func powerpc() {
        let cpu = CPUInfo(parsing: "processor\t: 0\ncpu\t\t: POWER9 (architected), altivec supported\nclock\t\t: 2200.000000MHz\nrevision\t: 2.2 (pvr 004e 1202)\n\ntimebase\t: 512000000\nplatform\t: pSeries\nmodel\t\t: IBM,9009-22A\n")
        let s = CPUSummary(cpu: cpu, machine: "ppc64le")
        #expect(s.value("Model name") == "POWER9 (architected), altivec supported")
        #expect(s.value("Model") == "2.2 (pvr 004e 1202)")
        #expect(s.value("Byte Order") == "Little Endian")
        #expect(CPUSummary(cpu: cpu, machine: "ppc64").value("Byte Order") == "Big Endian")
    }

    @Test func s390x() {
        let cpu = CPUInfo(parsing: "vendor_id       : IBM/S390\n# processors    : 2\nbogomips per cpu: 3241.00\nfeatures\t: esan3 zarch stfle msa\nprocessor 0: version = FF,  identification = 0133E8,  machine = 2964\nprocessor 1: version = FF,  identification = 0133E8,  machine = 2964\n")
        let s = CPUSummary(cpu: cpu)
        #expect(s.value("Architecture") == "s390x")
        #expect(s.value("Byte Order") == "Big Endian")
        #expect(s.value("CPU(s)") == "2")
        #expect(s.value("Machine type") == "2964")
        #expect(s.value("BogoMIPS") == "3241.00")
        #expect(s.value("Flags") == "esan3 zarch stfle msa")
    }
}

import Testing
import DeviceInfo

struct SoCInfoTests {
    let report = DeviceReport(from: DeviceExamples.netgearM5)

    @Test func m5SoCDecodesSocIDAndKeepsRawValues() throws {
        let soc = try #require(report.soc.first)
        #expect(soc.directory == "soc0")
        #expect(soc.attribute("soc_id")?.raw == "357")
        #expect(soc.attribute("soc_id")?.decoded?.hasPrefix("SDX55") == true)
        #expect(soc.attribute("soc_id")?.decoded?.contains("SDXPRAIRIE") == true)
        #expect(soc.attribute("pmic_model")?.raw == "65568")
        #expect(soc.attribute("pmic_die_revision")?.decoded == "2.0")
        #expect(soc.attribute("platform_version")?.decoded == "1.0")
        #expect(soc.attribute("num_defective_parts")?.decoded == "13")
        #expect(soc.chipName == "SDX55")
        #expect(soc.attributes.count == 30)   // every attribute the post lists
    }

    @Test func unknownValuesStayRaw() {
        let soc = SoCInfo(directory: "soc0", attributes: [
            SoCAttribute(name: "vendor", value: "Qualcomm"),
            SoCAttribute(name: "soc_id", value: "9999"),
            SoCAttribute(name: "pmic_model", value: "65599"),
        ])
        #expect(soc.attribute("soc_id")?.decoded == nil)
        #expect(soc.attribute("pmic_model")?.decoded == "model index 63 (not in the table)")
        #expect(soc.attribute("pmic_model")?.raw == "65599")
    }

    @Test func nonQualcommSocIDIsNotLookedUp() {
        let soc = SoCInfo(directory: "soc0", attributes: [
            SoCAttribute(name: "family", value: "Freescale i.MX"),
            SoCAttribute(name: "soc_id", value: "357"),
        ])
        #expect(soc.attribute("soc_id")?.decoded == nil)
    }

    @Test func smcccJEP106SocID() throws {
        let id = try #require(JEP106SoCID("jep106:043b:0801"))
        #expect(id.continuation == 4)
        #expect(id.manufacturer == 0x3b)
        #expect(id.soc == 0x801)
        #expect(JEP106SoCID("jep106:43b:0801") == nil)
        #expect(JEP106SoCID("357") == nil)
    }

    @Test func m5FirmwareImages() {
        let images = report.firmwareImages
        #expect(images.map(\.slot) == [0, 1, 11])
        #expect(images.map(\.name) == ["boot", "tz", "mpss"])
        #expect(images[2].crm == "11:MPSS.HI.2.0.c3.5-00010-SDX55_CPEALL_PACK-1.403198.3")
        #expect(images[1].version == ":CRM")
    }

    @Test func imageSlotsWithEmptyCRM() {
        let images = FirmwareImage.parse("3:\n\tCRM:\t\t\n\tVariant:\t\n\tVersion:\t:\n9:\n\tCRM:\t\t09:APPSBL\n")
        #expect(images.count == 2)
        #expect(images[0].crm.isEmpty)
        #expect(images[0].name == "rpm")
        #expect(images[1].crm == "09:APPSBL")
    }

    @Test func m5CPUSummaryReadsLikeLscpu() throws {
        let cpu = try #require(report.cpuSummary)
        #expect(cpu.value("Architecture") == "armv7l")
        #expect(cpu.value("Vendor ID") == "ARM")
        #expect(cpu.value("Model name") == "Cortex-A7")
        #expect(cpu.value("Stepping") == "r0p5")
        #expect(cpu.value("BogoMIPS") == "38.40")
    }

    @Test func m5MemoryMatchesThePublishedFreeOutput() throws {
        let m = try #require(report.memory.value)
        #expect(m.totalKiB / 1024 == 781)
        #expect(m.freeKiB / 1024 == 393)
        #expect(m.buffCacheKiB / 1024 == 142)
        #expect(m.swapTotalKiB / 1024 == 109)
        // The post's older free: used = total - free = 387; -/+ buffers/cache: 245 used, 535 free.
        #expect((m.totalKiB - m.freeKiB) / 1024 == 387)
        #expect(m.usedKiB / 1024 == 245)
    }

    @Test func m5KernelAndUnameFromTheDump() throws {
        let u = try #require(report.uname.value)
        #expect(u.unameAll == "Linux sdxprairie 4.14.117 #1 PREEMPT Thu Aug 19 23:42:26 UTC 2021 armv7l GNU/Linux")
        #expect(report.target.value == "sdxprairie")
        #expect(report.commandLine.value?.values("ubi.mtd") == ["24"])
    }

    @Test func missingFilesAreUnavailableNotFatal() {
        let empty = DeviceReport(from: MemorySource(label: "empty", textFiles: ["/proc/meminfo": "garbage"]))
        #expect(empty.cpu.value == nil)
        #expect(empty.memory == .unavailable("garbage"))
        #expect(empty.soc.isEmpty)
        #expect(empty.firmwareImages.isEmpty)
        #expect(empty.cpuSummary == nil)
    }
}

struct CPUArchitectureTests {
    @Test func aarch64Decoding() {
        let cpu = CPUInfo(parsing: """
            processor\t: 0
            BogoMIPS\t: 108.00
            Features\t: fp asimd evtstrm crc32 cpuid
            CPU implementer\t: 0x41
            CPU architecture: 8
            CPU variant\t: 0x0
            CPU part\t: 0xd08
            CPU revision\t: 3

            """)
        let s = CPUSummary(cpu: cpu)
        #expect(s.value("Architecture") == "aarch64")
        #expect(s.value("Model name") == "Cortex-A72")
        #expect(s.value("Stepping") == "r0p3")
    }

    @Test func unknownPartStaysAsCpuinfoSays() {
        let cpu = CPUInfo(parsing: "processor : 0\nCPU implementer : 0x41\nCPU part : 0xfff\nCPU variant : 0x1\nCPU revision : 2\nmodel name : Mystery\n")
        let s = CPUSummary(cpu: cpu)
        #expect(s.value("Vendor ID") == "ARM")
        #expect(s.value("Model name") == "Mystery")
        #expect(s.value("Stepping") == "r1p2")
    }

    @Test func nonARMQualcommCoreIsDecoded() {
        let cpu = CPUInfo(parsing: "processor : 0\nCPU implementer : 0x51\nCPU part : 0x803\nCPU variant : 0x7\nCPU revision : 12\n")
        let s = CPUSummary(cpu: cpu)
        #expect(s.value("Vendor ID") == "Qualcomm")
        #expect(s.value("Model name") == "Kryo-3XX-Silver")
        #expect(s.value("Stepping") == "0x7")   // lscpu gives rNpN only for ARM Ltd. cores
    }

    @Test func s390IsNotTakenForX86() {
        let cpu = CPUInfo(parsing: "vendor_id       : IBM/S390\n# processors    : 2\nbogomips per cpu: 3241.00\n\nprocessor 0: version = FF\n")
        #expect(CPUSummary.guessArchitectureForTesting(cpu) == "s390x")
    }
}

import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import DeviceInfo

struct Device: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "SoC, CPU, memory, kernel and firmware facts of this machine, a captured root or an example.",
        discussion: """
            Examples:
              labctl device
              labctl device --example netgear-m5
              labctl device cpu --root /mnt/dump
              labctl device capture m5.tar.gz
              labctl device --dump m5.tar.gz --json
            """,
        subcommands: [Report.self, CPU.self, Capture.self],
        defaultSubcommand: Report.self
    )

    struct SourceOptions: ParsableArguments {
        @Option(help: "Read facts from this directory instead of the live system.")
        var root: String?

        @Option(help: "Read facts from a .tar or .tar.gz dump (as written by 'labctl device capture').")
        var dump: String?

        @Option(help: "Use a dump shipped with labctl: \(DeviceExamples.names.joined(separator: ", ")).")
        var example: String?

        var choice: DeviceSourceChoice { DeviceSourceChoice(root: root, dump: dump, example: example) }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "The full report, in sections (the default).",
            discussion: "Example:\n  labctl device --example netgear-m5 --json")

        @OptionGroup var source: SourceOptions
        @OptionGroup var output: OutputOptions

        func run() throws { try Device.report(source.choice, json: output.json) }
    }

    struct CPU: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cpu",
            abstract: "An lscpu-style CPU summary with lscpu's field names.",
            discussion: "Example:\n  diff <(labctl device cpu) <(lscpu)")

        @OptionGroup var source: SourceOptions
        @OptionGroup var output: OutputOptions

        func run() throws { try Device.cpu(source.choice, json: output.json) }
    }

    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "capture",
            abstract: "Write the files the report reads into a .tar.gz dump, to read later with --dump.",
            discussion: """
                The dump holds /proc/cpuinfo, meminfo, version, cmdline, /proc/sys/kernel's uname fields,
                /sys/devices/socN, the CPU topology and caches, NUMA nodes and the device tree's model.
                It is created with mode 0600: it holds serial numbers.

                Example:
                  labctl device capture /tmp/$(hostname).tar.gz && labctl device --dump /tmp/$(hostname).tar.gz
                """)

        @Argument(help: "The dump to write (.tar.gz).")
        var output: String

        @Option(help: "Capture from this directory instead of the live system.")
        var root: String?

        func run() throws {
            let source = DirectorySource(root: root ?? "/")
            let (archive, count) = DeviceCapture.archive(of: source, modificationTime: Int(time(nil)))
            if count == 0 { throw LabError("nothing to capture in \(source.label)") }
            try SecretFile.write(archive, to: output)
            print("\(output): \(count) files, \(archive.count) bytes")
        }
    }
}

extension Device {
    /// `labctl device [report]`.
    static func report(_ source: DeviceSourceChoice, json: Bool) throws {
        let report = try source.report()
        try OutputOptions.emit(report, json: json) { try StandardOutput.write(DeviceReportText(report).render()) }
    }

    /// `labctl device cpu`.
    static func cpu(_ source: DeviceSourceChoice, json: Bool) throws {
        let (summary, label) = try source.cpuSummary()
        guard let summary else {
            throw LabError("/proc/cpuinfo is unavailable in \(label)")
        }
        try OutputOptions.emit(summary, json: json) { print(summary.lscpuText) }
    }
}

/// Where `labctl device` reads its facts: `--root`, `--dump`, `--example`, or the live system.
struct DeviceSourceChoice: Hashable, Sendable {
    var root: String?
    var dump: String?
    var example: String?

    func report() throws -> DeviceReport {
        switch try open() {
        case .dump(let source): DeviceReport(from: source)
        case .example(let source): DeviceReport(from: source)
        case .directory(let source): DeviceReport(from: source)
        }
    }

    /// The CPU summary alone (`labctl device cpu`), and the source's label.
    func cpuSummary() throws -> (summary: CPUSummary?, label: String) {
        switch try open() {
        case .dump(let source): (CPUSummary(from: source), source.label)
        case .example(let source): (CPUSummary(from: source), source.label)
        case .directory(let source): (CPUSummary(from: source), source.label)
        }
    }

    /// The chosen source, by its concrete type, so that what reads it is specialized for it.
    private enum Opened {
        case dump(DumpSource)
        case example(MemorySource)
        case directory(DirectorySource)
    }

    private func open() throws -> Opened {
        if [root, dump, example].compactMap({ $0 }).count > 1 {
            throw LabError("--root, --dump and --example exclude each other")
        }
        if let dump {
            do {
                return .dump(try DumpSource(path: dump))
            } catch {
                throw LabError(error.description)
            }
        }
        if let example {
            guard let source = DeviceExamples.source(named: example) else {
                throw LabError("no example '\(example)'; known: \(DeviceExamples.names.joined(separator: ", "))")
            }
            return .example(source)
        }
        let source = DirectorySource(root: root ?? "/")
        if let root, source.list("/").isEmpty {
            throw LabError("\(root): not a readable directory")
        }
        return .directory(source)
    }
}

/// The human rendering of a ``DeviceReport``: one section per topic.
struct DeviceReportText {
    let report: DeviceReport
    init(_ report: DeviceReport) { self.report = report }

    /// The report as UTF-8 lines, each ending in a newline. Built as bytes: joining Strings took
    /// a tenth of a report's instructions.
    func render() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8192)
        func line(_ text: String, indent: Bool = true) {
            if indent { out.append(0x20); out.append(0x20) }
            out.append(contentsOf: text.utf8)
            out.append(0x0A)
        }
        func section(_ title: String, _ lines: [String]) {
            out.append(0x0A)
            line(title, indent: false)
            for text in lines { line(text) }
        }
        func rows(_ table: TextTable) -> [String] { nonEmptyLines(table.render()) }

        line("Source: \(report.source)", indent: false)
        if report.soc.isEmpty {
            section("SoC", ["unavailable (no /sys/devices/socN)"])
        }
        for soc in report.soc {
            var t = TextTable(header: ["attribute", "value", "meaning"])
            for a in soc.attributes { t.add([a.name, a.raw, a.decoded ?? ""]) }
            section("SoC (\(soc.directory))", rows(t))
        }

        if let summary = report.cpuSummary {
            section("CPU", summary.lscpuLines)
            if let hw = report.cpu.value?.value("Hardware") { line("Hardware: \(hw)") }
            if let dt = report.deviceTree.value {
                if let model = dt.model { line("Device tree model: \(model)") }
                if !dt.compatible.isEmpty {
                    out.append(contentsOf: "  Compatible: ".utf8)
                    for (i, name) in dt.compatible.enumerated() {
                        if i > 0 { out.append(contentsOf: ", ".utf8) }
                        out.append(contentsOf: name.utf8)
                    }
                    out.append(0x0A)
                }
            }
        } else if case .unavailable(let why) = report.cpu {
            section("CPU", ["unavailable (\(why))"])
        }

        switch report.memory {
        case .available(let m):
            var t = TextTable(header: ["", "total", "used", "free", "shared", "buff/cache", "available"])
            t.add(["Mem:", mib(m.totalKiB), mib(m.usedKiB), mib(m.freeKiB), mib(m.sharedKiB), mib(m.buffCacheKiB), mib(m.availableKiB)])
            t.add(["Swap:", mib(m.swapTotalKiB), mib(m.swapUsedKiB), mib(m.swapFreeKiB), "", "", ""])
            section("Memory (MiB, as free -m)", rows(t))
        case .unavailable(let why):
            section("Memory", ["unavailable (\(why))"])
        }

        var kernel: [String] = []
        switch report.uname {
        case .available(let u): kernel.append("uname -a: \(u.unameAll)")
        case .unavailable(let why): kernel.append("uname: unavailable (\(why))")
        }
        switch report.kernelVersion {
        case .available(let v):
            kernel.append("version: \(v.raw)")
            if let c = v.compiler { kernel.append("compiler: \(c)") }
            if let b = v.builder { kernel.append("built by: \(b)") }
        case .unavailable(let why): kernel.append("/proc/version: unavailable (\(why))")
        }
        if let target = report.target.value { kernel.append("target: \(target)") }
        section("Kernel", kernel)

        switch report.commandLine {
        case .available(let c):
            out.append(0x0A)
            line("Command line", indent: false)
            for p in c.parameters {
                out.append(contentsOf: "  ".utf8)
                out.append(contentsOf: p.key.utf8)
                if let value = p.value { out.append(0x3D); out.append(contentsOf: value.utf8) }  // '='
                out.append(0x0A)
            }
        case .unavailable(let why):
            section("Command line", ["unavailable (\(why))"])
        }

        if report.firmwareImages.isEmpty {
            section("Firmware images", ["unavailable (no /sys/devices/soc0/images)"])
        } else {
            var t = TextTable(header: ["slot", "image", "CRM", "variant", "version"])
            for i in report.firmwareImages {
                t.add([String(i.slot), i.name ?? "", i.crm.isEmpty ? "(empty)" : i.crm, i.variant, i.version])
            }
            section("Firmware images", rows(t))
        }
        return out
    }

    private func mib(_ kib: UInt64) -> String { String(kib / 1024) }
}

import ArgumentParser
import DeviceInfo

struct Device: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "SoC, CPU, memory, kernel and firmware facts of this machine or a captured root.",
        discussion: """
            Examples:
              labctl device
              labctl device --root /mnt/dump --json
            """
    )

    @Option(help: "Read facts from this directory instead of the live system.")
    var root: String?

    @OptionGroup var output: OutputOptions

    func run() throws {
        let source = DirectorySource(root: root ?? "/")
        if let root, DirectorySource(root: root).list("/").isEmpty {
            throw LabError("\(root): not a readable directory")
        }
        let report = DeviceReport(from: source)
        try output.emit(report) { print(DeviceReportText(report).render()) }
    }
}

/// The human rendering of a ``DeviceReport``: one section per topic.
struct DeviceReportText {
    let report: DeviceReport
    init(_ report: DeviceReport) { self.report = report }

    func render() -> String {
        var out: [String] = ["Source: \(report.source)"]
        func section(_ title: String, _ lines: [String]) {
            out.append("")
            out.append(title)
            out += lines.map { "  " + $0 }
        }

        if report.soc.isEmpty {
            section("SoC", ["unavailable (no /sys/devices/socN)"])
        }
        for (name, attributes) in report.soc.sorted(by: { $0.key < $1.key }) {
            var t = TextTable(header: ["attribute", "value"])
            for a in attributes { t.add([a.name, a.value]) }
            section("SoC (\(name))", t.render().split(separator: "\n").map(String.init))
        }

        switch report.cpu {
        case .available(let cpu):
            var lines = ["Model name: \(cpu.modelName ?? "unknown")", "Processors: \(cpu.processors.count)"]
            if let hw = cpu.value("Hardware") { lines.append("Hardware: \(hw)") }
            section("CPU", lines)
        case .unavailable(let why):
            section("CPU", ["unavailable (\(why))"])
        }

        switch report.memory {
        case .available(let m):
            var t = TextTable(header: ["", "total", "used", "free", "shared", "buff/cache", "available"])
            t.add(["Mem:", mib(m.totalKiB), mib(m.usedKiB), mib(m.freeKiB), mib(m.sharedKiB), mib(m.buffCacheKiB), mib(m.availableKiB)])
            t.add(["Swap:", mib(m.swapTotalKiB), mib(m.swapUsedKiB), mib(m.swapFreeKiB), "", "", ""])
            section("Memory (MiB)", t.render().split(separator: "\n").map(String.init))
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
            section("Command line", c.parameters.map { p in p.value.map { "\(p.key)=\($0)" } ?? p.key })
        case .unavailable(let why):
            section("Command line", ["unavailable (\(why))"])
        }
        return out.joined(separator: "\n")
    }

    private func mib(_ kib: UInt64) -> String { String(kib / 1024) }
}

/// A fact that may be missing or unreadable on a device.
public enum Fact<Value: Sendable & Hashable & Encodable>: Sendable, Hashable, Encodable {
    case available(Value)
    case unavailable(String)

    public var value: Value? {
        if case .available(let v) = self { return v }
        return nil
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .available(let v): try c.encode(v)
        case .unavailable(let why): try c.encode(["unavailable": why])
        }
    }
}

/// Everything `labctl device` reports, gathered from one source.
public struct DeviceReport: Sendable, Hashable, Encodable {
    public let source: String
    /// Each `/sys/devices/socN`, in order, with decoded attributes.
    public let soc: [SoCInfo]
    /// Qualcomm's `/sys/devices/soc0/images`, empty where absent.
    public let firmwareImages: [FirmwareImage]
    public let cpu: Fact<CPUInfo>
    public let memory: Fact<MemoryInfo>
    public let uname: Fact<UnameInfo>
    public let kernelVersion: Fact<KernelVersion>
    public let commandLine: Fact<KernelCommandLine>
    /// `/target` on Qualcomm vendor builds.
    public let target: Fact<String>
    /// `/sys/devices/system/cpu`: online CPUs, cores, sockets, caches, NUMA nodes.
    public let topology: Fact<CPUTopology>
    /// The device tree's model and compatible strings (ARM, RISC-V and PowerPC boards).
    public let deviceTree: Fact<DeviceTreeInfo>

    /// The lscpu-style CPU summary, when cpuinfo was readable.
    public let cpuSummary: CPUSummary?

    public init(from source: some DeviceSource) {
        self.source = source.label
        var soc: [SoCInfo] = []
        for dir in source.list("/sys/devices") where SoCInfo.isSoCDirectory(dir) {
            var attributes: [SoCAttribute] = []
            for name in source.list("/sys/devices/\(dir)") where !["uevent", "power", "subsystem", "images"].contains(name) {
                if case .success(let v) = source.text("/sys/devices/\(dir)/\(name)") {
                    attributes.append(SoCAttribute(name: name, value: v))
                }
            }
            soc.append(SoCInfo(directory: dir, attributes: attributes))
        }
        self.soc = soc
        if case .success(let text) = source.text("/sys/devices/soc0/images") {
            firmwareImages = FirmwareImage.parse(text)
        } else {
            firmwareImages = []
        }
        cpu = DeviceReport.fact(source.text("/proc/cpuinfo")) { CPUInfo(parsing: $0) }
        memory = DeviceReport.fact(source.text("/proc/meminfo")) { MemoryInfo(parsing: $0) }
        kernelVersion = DeviceReport.fact(source.text("/proc/version")) { KernelVersion(parsing: $0) }
        commandLine = DeviceReport.fact(source.text("/proc/cmdline")) { KernelCommandLine(parsing: $0) }
        target = DeviceReport.fact(source.text("/target")) { $0 }
        uname = DeviceReport.uname(of: source)
        topology = CPUTopology(from: source).map { .available($0) } ?? .unavailable("missing")
        deviceTree = DeviceTreeInfo(from: source).map { .available($0) } ?? .unavailable("missing")
        let machine = uname.value?.machine
        let topology = self.topology.value
        cpuSummary = cpu.value.map { CPUSummary(cpu: $0, machine: machine == "unknown" ? nil : machine, topology: topology) }
    }

    private static func fact<T>(_ read: Result<String, ReadFailure>, _ parse: (String) -> T?) -> Fact<T> {
        switch read {
        case .success(let text):
            if let v = parse(text) { return .available(v) }
            return .unavailable("garbage")
        case .failure(let why):
            return .unavailable(why.description)
        }
    }

    /// uname(2) on the live system; elsewhere its fields as `/proc/sys/kernel` exposes them.
    static func uname(of source: some DeviceSource) -> Fact<UnameInfo> {
        if source.isLive, let u = UnameInfo.live() { return .available(u) }
        return unameFromProcSys(source)
    }

    /// uname's fields as `/proc/sys/kernel` exposes them, for dumps.
    private static func unameFromProcSys(_ source: some DeviceSource) -> Fact<UnameInfo> {
        func read(_ name: String) -> String? {
            if case .success(let v) = source.text("/proc/sys/kernel/\(name)") { return v }
            return nil
        }
        guard let sysname = read("ostype"), let release = read("osrelease") else {
            return .unavailable("missing")
        }
        return .available(UnameInfo(sysname: sysname, nodename: read("hostname") ?? "(none)", release: release,
                                    version: read("version") ?? "", machine: read("arch") ?? "unknown"))
    }
}

/// `/sys/firmware/devicetree/base` (also `/proc/device-tree`): the board's model and compatible list.
public struct DeviceTreeInfo: Sendable, Hashable, Encodable {
    public let model: String?
    public let compatible: [String]

    public init?(from source: some DeviceSource) {
        func strings(_ name: String) -> [String]? {
            for base in ["/sys/firmware/devicetree/base", "/proc/device-tree"] {
                if case .success(let bytes) = source.read("\(base)/\(name)") {
                    return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                }
            }
            return nil
        }
        let model = strings("model")?.first
        let compatible = strings("compatible") ?? []
        if model == nil && compatible.isEmpty { return nil }
        self.model = model
        self.compatible = compatible
    }
}

extension CPUSummary {
    /// The summary alone, from `/proc/cpuinfo`, the machine name and `/sys/devices/system/cpu`:
    /// what a report's ``DeviceReport/cpuSummary`` holds, without reading the rest of the report.
    /// Nil when cpuinfo cannot be read.
    public init?(from source: some DeviceSource) {
        guard case .success(let text) = source.text("/proc/cpuinfo") else { return nil }
        let machine = DeviceReport.uname(of: source).value?.machine
        self.init(cpu: CPUInfo(parsing: text), machine: machine == "unknown" ? nil : machine,
                  topology: CPUTopology(from: source))
    }
}

extension CPUTopology {
    /// Reads the topology from a source; nil when `/sys/devices/system/cpu` is absent.
    public init?(from source: some DeviceSource) {
        self.init { path in
            if case .success(let text) = source.text(path) { return text }
            return nil
        } list: { source.list($0) }
    }
}

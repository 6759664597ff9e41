/// An lscpu-style summary of `/proc/cpuinfo`, with lscpu's field names so the two can be diffed.
public struct CPUSummary: Sendable, Hashable, Encodable {
    public struct Field: Sendable, Hashable, Encodable {
        public let name: String
        public let value: String
    }

    public let fields: [Field]

    public func value(_ name: String) -> String? { fields.first { $0.name == name }?.value }

    /// - Parameter machine: uname's machine, when known (the live system, or a dump's record of it).
    public init(cpu: CPUInfo, machine: String? = nil) {
        var f: [Field] = []
        func add(_ name: String, _ value: String?) {
            if let value, !value.isEmpty { f.append(Field(name: name, value: value)) }
        }
        let implementer = cpu.value("CPU implementer").flatMap { Self.parseHex($0) }
        let architecture = machine ?? Self.guessArchitecture(cpu)
        add("Architecture", architecture)
        add("Byte Order", architecture.map { $0.hasSuffix("be") || $0 == "s390x" || $0 == "ppc64" ? "Big Endian" : "Little Endian" })
        add("CPU(s)", String(cpu.processors.count))
        if let implementer {
            let impl = ARMCPUTable.implementer(implementer)
            add("Vendor ID", impl?.name ?? cpu.value("CPU implementer"))
            let part = cpu.value("CPU part").flatMap { Self.parseHex($0) }
            add("Model name", part.flatMap { impl?.parts[$0] } ?? cpu.value("model name") ?? cpu.value("Processor") ?? "-")
            add("Model", cpu.value("CPU revision"))
            if implementer == 0x41, let variant = cpu.value("CPU variant").flatMap({ Self.parseHex($0) }),
               let revision = cpu.value("CPU revision").flatMap({ Int($0) }) {
                add("Stepping", "r\(variant)p\(revision)")
            } else {
                add("Stepping", cpu.value("CPU variant"))
            }
            add("BogoMIPS", cpu.value("BogoMIPS"))
            add("Flags", cpu.value("Features"))
        } else {
            add("Vendor ID", cpu.value("vendor_id") ?? cpu.value("vendor") ?? cpu.value("mvendorid"))
            add("Model name", cpu.modelName)
            add("CPU family", cpu.value("cpu family"))
            add("Model", cpu.value("model"))
            add("Stepping", cpu.value("stepping"))
            add("BogoMIPS", cpu.value("bogomips") ?? cpu.value("BogoMIPS"))
            add("Flags", cpu.value("flags") ?? cpu.value("isa"))
        }
        fields = f
    }

    /// lscpu's text form: `Name:` padded, then the value.
    public var lscpuText: String {
        let width = max(33, (fields.map(\.name.count).max() ?? 0) + 2)
        return fields.map { field in
            let label = field.name + ":"
            return label + String(repeating: " ", count: max(1, width - label.count)) + field.value
        }.joined(separator: "\n")
    }

    static func parseHex(_ text: String) -> Int? {
        text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
    }

    /// The architecture a cpuinfo file implies, when uname is not available.
    static func guessArchitecture(_ cpu: CPUInfo) -> String? {
        if let arch = cpu.value("CPU architecture") {
            if arch == "8" || arch == "AArch64" { return cpu.value("Features")?.contains("fp asimd") == true ? "aarch64" : "armv8l" }
            if let n = Int(arch) { return n >= 7 ? "armv7l" : "armv\(n)l" }
        }
        if cpu.value("vendor_id")?.contains("S390") == true { return "s390x" }
        if cpu.value("vendor_id") != nil || cpu.value("flags")?.contains(" lm ") == true {
            return cpu.value("flags")?.contains(" lm ") == true ? "x86_64" : "i686"
        }
        if cpu.value("isa")?.hasPrefix("rv64") == true { return "riscv64" }
        if cpu.value("cpu")?.hasPrefix("POWER") == true { return "ppc64le" }
        return nil
    }
}

extension CPUSummary {
    /// The architecture guessed from cpuinfo alone (exposed for tests).
    public static func guessArchitectureForTesting(_ cpu: CPUInfo) -> String? { guessArchitecture(cpu) }
}

/// An lscpu-style summary of `/proc/cpuinfo`, with lscpu's field names so the two can be diffed.
public struct CPUSummary: Sendable, Hashable, Encodable {
    public struct Field: Sendable, Hashable, Encodable {
        public let name: String
        public let value: String
    }

    public let fields: [Field]

    public func value(_ name: String) -> String? { fields.first { $0.name == name }?.value }

    /// - Parameters:
    ///   - machine: uname's machine, when known (the live system, or a dump's record of it).
    ///   - topology: `/sys/devices/system/cpu`, for the core, socket, cache and NUMA lines.
    public init(cpu: CPUInfo, machine: String? = nil, topology: CPUTopology? = nil) {
        var f: [Field] = []
        func add(_ name: String, _ value: String?) {
            if let value, !value.isEmpty { f.append(Field(name: name, value: value)) }
        }
        let implementer = cpu.value("CPU implementer").flatMap { Self.parseHex($0) }
        let architecture = machine ?? Self.guessArchitecture(cpu)
        let x86Flags = cpu.value("flags").map { " \($0) " }
        add("Architecture", architecture)
        if let x86Flags {
            add("CPU op-mode(s)", x86Flags.containsUTF8(" lm ") ? "32-bit, 64-bit" : "32-bit")
            add("Address sizes", cpu.value("address sizes"))
        }
        add("Byte Order", architecture.map { Self.isBigEndian($0) ? "Big Endian" : "Little Endian" })
        let processorCount = cpu.processors.isEmpty ? cpu.value("# processors") : String(cpu.processors.count)
        add("CPU(s)", topology.map { String($0.cpus.count) } ?? processorCount)
        if let topology {
            add("On-line CPU(s) list", CPUTopology.formatList(topology.online))
            let offline = topology.cpus.map { $0.number }.filter { !topology.online.contains($0) }
            if !offline.isEmpty { add("Off-line CPU(s) list", CPUTopology.formatList(offline)) }
        }
        var stepping: String?
        if let implementer {
            let impl = ARMCPUTable.implementer(implementer)
            add("Vendor ID", impl?.name ?? cpu.value("CPU implementer"))
            let part = cpu.value("CPU part").flatMap { Self.parseHex($0) }
            add("Model name", part.flatMap { impl?.parts[$0] } ?? cpu.value("model name") ?? cpu.value("Processor") ?? "-")
            add("Model", cpu.value("CPU revision"))
            if implementer == 0x41, let variant = cpu.value("CPU variant").flatMap({ Self.parseHex($0) }),
               let revision = cpu.value("CPU revision").flatMap({ Int($0) }) {
                stepping = "r\(variant)p\(revision)"
            } else {
                stepping = cpu.value("CPU variant")
            }
        } else if cpu.value("cpu")?.hasPrefix("POWER") == true || cpu.value("cpu")?.hasPrefix("PPC") == true {
            add("Vendor ID", cpu.value("vendor") ?? "IBM")
            add("Model name", cpu.value("cpu"))
            add("Model", cpu.value("revision"))
        } else if let vendor = cpu.value("vendor_id"), vendor.containsUTF8("S390") {
            add("Vendor ID", vendor)
            let machine = cpu.value("processor 0")?.split(separator: ",").first { $0.containsUTF8("machine =") }
            add("Machine type", machine.map { String($0.split(separator: "=").last!.trimmingSpaces) })
        } else if cpu.value("isa") != nil {
            add("Vendor ID", cpu.value("mvendorid"))
            add("Model name", cpu.value("uarch") ?? cpu.value("model name"))
        } else {
            add("Vendor ID", cpu.value("vendor_id") ?? cpu.value("vendor"))
            add("Model name", cpu.modelName)
            add("CPU family", cpu.value("cpu family"))
            add("Model", cpu.value("model"))
            stepping = cpu.value("stepping")
        }
        // Closures, not key paths: an optimized `map(\.x)` still builds the key path at run time.
        if let topology, let first = topology.cpus.first(where: { topology.online.contains($0.number) }) {
            let online = topology.cpus.filter { topology.online.contains($0.number) }
            let cores = Set(online.map { $0.threadSiblings }).count
            let sockets = max(1, Set(online.map { $0.packageSiblings }).count)
            add("Thread(s) per core", String(online.map { $0.threadSiblings.count }.max() ?? 1))
            let clusters = first.packageID == -1
            add(clusters ? "Core(s) per cluster" : "Core(s) per socket", String((cores + sockets - 1) / sockets))
            add(clusters ? "Cluster(s)" : "Socket(s)", String(sockets))
        }
        add("Stepping", stepping)
        if let topology {
            if let max = topology.cpus.compactMap({ $0.maxMHz }).max() { add("CPU max MHz", Self.mhz(max)) }
            if let min = topology.cpus.compactMap({ $0.minMHz }).min() { add("CPU min MHz", Self.mhz(min)) }
        }
        add("BogoMIPS", cpu.value("bogomips") ?? cpu.value("BogoMIPS") ?? cpu.value("bogomips per cpu"))
        add("Flags", cpu.value("flags") ?? cpu.value("Features") ?? cpu.value("features") ?? cpu.value("isa"))
        if let topology {
            for cache in topology.caches {
                let count = cache.instances == 1 ? "1 instance" : "\(cache.instances) instances"
                add("\(cache.name) cache", "\(CPUTopology.humanSize(cache.totalBytes)) (\(count))")
            }
            if !topology.numaNodes.isEmpty {
                add("NUMA node(s)", String(topology.numaNodes.count))
                for node in topology.numaNodes {
                    add("NUMA node\(node.id) CPU(s)", CPUTopology.formatList(node.cpus))
                }
            }
            for v in topology.vulnerabilities {
                let words = v.name.replacingUnderscores
                // lscpu turns "Mitigation: a: b" into "Mitigation; a b". The colon is dropped from
                // the bytes: String.filter breaks the text into Characters, 500 instructions each.
                let value = v.value.hasPrefix("Mitigation: ")
                    ? "Mitigation;" + String(decoding: v.value.utf8.dropFirst(11).filter { $0 != 0x3A }, as: UTF8.self) : v.value
                // String + String: + with a Substring appends it generically, which costs a run-time
                // lookup of its iterator type on first use (a scan of every conformance).
                add("Vulnerability \(words.prefix(1).uppercased() + String(words.dropFirst()))", value)
            }
        }
        fields = f
    }

    static func isBigEndian(_ architecture: String) -> Bool {
        architecture.hasSuffix("be") || ["s390x", "s390", "ppc64", "ppc", "sparc64", "mips", "mips64"].contains(architecture)
    }

    static func mhz(_ value: Double) -> String {
        let scaled = Int((value * 10000).rounded())
        let frac = String(scaled % 10000)
        return "\(scaled / 10000).\(String(repeating: "0", count: 4 - frac.count))\(frac)"
    }

    /// lscpu's text form: `Name:` padded, then the value.
    public var lscpuText: String { lscpuLines.joinedText(separator: "\n") }

    /// The lines of ``lscpuText``, each built once as bytes: `String(repeating:count:)`, `+` and
    /// counting Characters took a tenth of a device report's instructions.
    public var lscpuLines: [String] {
        var width = 33
        for field in fields { width = max(width, Self.columns(field.name) + 2) }
        var lines: [String] = []
        lines.reserveCapacity(fields.count)
        for field in fields {
            var name = field.name, value = field.value  // withUTF8 needs them mutable; native strings are not copied
            let padding = max(1, width - Self.columns(field.name) - 1)
            // From buffers, so each copy is a memcpy: copied from a UTF8View, the 1,500 bytes of
            // an x86 flags line went one at a time.
            name.withUTF8 { name in
                value.withUTF8 { value in
                    lines.append(String(unsafeUninitializedCapacity: name.count + 1 + padding + value.count) { buffer in
                        var end = buffer.initialize(fromContentsOf: name)
                        buffer[end] = 0x3A  // ':'
                        end += 1
                        buffer[end..<end + padding].initialize(repeating: 0x20)
                        end += padding
                        return buffer[end...].initialize(fromContentsOf: value)
                    })
                }
            }
        }
        return lines
    }

    /// Columns a name takes on a terminal: its bytes when it is ASCII, as sysfs and lscpu's are.
    private static func columns(_ text: String) -> Int {
        text.utf8.contains { $0 >= 0x80 } ? text.count : text.utf8.count
    }

    static func parseHex(_ text: String) -> Int? {
        text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
    }

    /// The architecture a cpuinfo file implies, when uname is not available.
    static func guessArchitecture(_ cpu: CPUInfo) -> String? {
        if let arch = cpu.value("CPU architecture") {
            if arch == "8" || arch == "AArch64" { return cpu.value("Features")?.containsUTF8("fp asimd") == true ? "aarch64" : "armv8l" }
            if let n = Int(arch) { return n >= 7 ? "armv7l" : "armv\(n)l" }
        }
        if cpu.value("vendor_id")?.containsUTF8("S390") == true { return "s390x" }
        if cpu.value("vendor_id") != nil || cpu.value("flags")?.containsUTF8(" lm ") == true {
            return cpu.value("flags")?.containsUTF8(" lm ") == true ? "x86_64" : "i686"
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

extension String {
    /// By bytes: `String(map { … })` appends a [Character] generically, which costs a run-time
    /// lookup of its iterator type on first use.
    var replacingUnderscores: String { String(decoding: utf8.map { $0 == 0x5F ? 0x20 : $0 }, as: UTF8.self) }
}

/// `/sys/devices/system/cpu`: which CPUs are online, how they group into cores and sockets,
/// their caches, plus the NUMA nodes and the kernel's vulnerability report.
public struct CPUTopology: Sendable, Hashable, Encodable {
    public struct CPU: Sendable, Hashable, Encodable {
        public let number: Int
        public let coreID: Int?
        /// `physical_package_id`; -1 on older ARM kernels that only know clusters.
        public let packageID: Int?
        public let clusterID: Int?
        public let threadSiblings: [Int]
        public let packageSiblings: [Int]
        public let maxMHz: Double?
        public let minMHz: Double?
    }

    public struct Cache: Sendable, Hashable, Encodable {
        /// lscpu's name: `L1d`, `L1i`, `L2`, `L3`.
        public let name: String
        public let level: Int
        public let type: String
        public let bytesPerInstance: Int
        /// Distinct groups of CPUs sharing one copy.
        public let instances: Int
        public var totalBytes: Int { bytesPerInstance * instances }
    }

    public struct NUMANode: Sendable, Hashable, Encodable {
        public let id: Int
        public let cpus: [Int]
    }

    public let online: [Int]
    public let cpus: [CPU]
    public let caches: [Cache]
    public let numaNodes: [NUMANode]
    /// `vulnerabilities/NAME` files, in name order.
    public let vulnerabilities: [CPUSummary.Field]

    /// The pure core: `read` returns a file's text, `list` a directory's names.
    public init?(read: (String) -> String?, list: (String) -> [String]) {
        let base = "/sys/devices/system/cpu"
        let numbers = list(base).compactMap(Self.cpuNumber).sorted()
        guard !numbers.isEmpty else { return nil }
        online = read(base + "/online").flatMap(Self.parseList) ?? numbers
        var cpus: [CPU] = []
        /// One per cache name, in order of discovery; a handful, so found by a scan. A struct and
        /// an array, not a dictionary of tuples holding a Set: instantiating those generic types'
        /// metadata at run time cost more than the cache files' whole parse.
        struct CacheGroups {
            let name: String, level: Int, type: String, size: Int
            var groups: [String]
        }
        var caches: [CacheGroups] = []
        /// The file `name` below `dir` (which ends in its own separator or `name` starts with one).
        func text(_ dir: String, _ name: String) -> String? { read(Self.joined(dir, name)) }
        func int(_ dir: String, _ name: String) -> Int? { text(dir, name).flatMap { Int($0) } }
        for n in numbers {
            let dir = Self.joined(base + "/cpu", String(n))
            let topology = Self.joined(dir, "/topology/")
            let siblings = text(topology, "thread_siblings_list").flatMap(Self.parseList) ?? [n]
            let package = (text(topology, "package_cpus_list") ?? text(topology, "core_siblings_list"))
                .flatMap(Self.parseList) ?? [n]
            cpus.append(CPU(number: n, coreID: int(topology, "core_id"), packageID: int(topology, "physical_package_id"),
                            clusterID: int(topology, "cluster_id"), threadSiblings: siblings, packageSiblings: package,
                            maxMHz: int(dir, "/cpufreq/cpuinfo_max_freq").map { Double($0) / 1000 },
                            minMHz: int(dir, "/cpufreq/cpuinfo_min_freq").map { Double($0) / 1000 }))
            guard online.contains(n) else { continue }
            for index in list(Self.joined(dir, "/cache")) where index.hasPrefix("index") {
                let cdir = Self.joined(Self.joined(dir, "/cache/"), Self.joined(index, "/"))
                guard let level = int(cdir, "level"),
                      let type = text(cdir, "type"),
                      let size = text(cdir, "size").flatMap(Self.parseSize) else { continue }
                let suffix = type == "Data" ? "d" : type == "Instruction" ? "i" : ""
                let name = "L" + String(level) + suffix
                let shared = text(cdir, "shared_cpu_list") ?? "cpu" + String(n)
                if let i = caches.firstIndex(where: { $0.name == name }) {
                    if !caches[i].groups.contains(shared) { caches[i].groups.append(shared) }
                } else {
                    caches.append(CacheGroups(name: name, level: level, type: type, size: size, groups: [shared]))
                }
            }
        }
        self.cpus = cpus
        self.caches = caches.map { Cache(name: $0.name, level: $0.level, type: $0.type,
                                         bytesPerInstance: $0.size, instances: $0.groups.count) }
            .sorted { ($0.level, $0.name) < ($1.level, $1.name) }
        numaNodes = list("/sys/devices/system/node").compactMap { name -> NUMANode? in
            guard name.hasPrefix("node"), let id = Int(name.dropFirst(4)) else { return nil }
            return NUMANode(id: id, cpus: read("/sys/devices/system/node/\(name)/cpulist").flatMap(Self.parseList) ?? [])
        }.sorted { $0.id < $1.id }
        vulnerabilities = list(base + "/vulnerabilities").compactMap { name in
            read("\(base)/vulnerabilities/\(name)").map { CPUSummary.Field(name: name, value: $0) }
        }
    }

    /// `a` then `b` in one allocation, each copied with memcpy: `+` grows the left string and
    /// cost three times as much, over a hundred times a report.
    static func joined(_ a: String, _ b: String) -> String {
        var a = a, b = b  // withUTF8 needs them mutable; native strings are not copied
        return a.withUTF8 { x in
            b.withUTF8 { y in
                String(unsafeUninitializedCapacity: x.count + y.count) { buffer in
                    _ = buffer.initialize(fromContentsOf: x)
                    return buffer[x.count...].initialize(fromContentsOf: y)
                }
            }
        }
    }

    /// `cpu12` is 12; `cpufreq` and `cpuidle` are not CPUs.
    static func cpuNumber(_ name: String) -> Int? {
        guard name.hasPrefix("cpu"), name.count > 3 else { return nil }
        return Int(name.dropFirst(3))
    }

    /// A kernel CPU list such as `0-3,8,10-11`. Nil for garbage or absurd ranges. Spaces and
    /// newlines are ignored. Read byte by byte: splitting the String cost 6,000 instructions a list.
    public static func parseList(_ text: String) -> [Int]? {
        var text = text  // withUTF8 needs it mutable; a native string is not copied
        return text.withUTF8 { bytes -> [Int]? in
            var result: [Int] = []
            var low = -1  // the range's first bound once its '-' is read
            var value = 0
            var digits = 0
            var empty = true
            for i in 0...bytes.count {
                let c = i < bytes.count ? bytes[i] : 0x2C  // the end closes the last part like a ','
                switch c {
                case 0x0A, 0x20:
                    continue
                case 0x30...0x39:
                    value = value * 10 + Int(c - 0x30)
                    digits += 1
                    empty = false
                    guard value < 1 << 32 else { return nil }
                case 0x2D:  // '-'
                    guard digits > 0, low < 0 else { return nil }
                    low = value
                    value = 0
                    digits = 0
                case 0x2C:  // ','
                    if i == bytes.count && empty { return [] }
                    guard digits > 0 else { return nil }
                    let first = low < 0 ? value : low
                    guard first <= value, value - first < 1 << 16, result.count < 1 << 16 else { return nil }
                    result += first...value
                    low = -1
                    value = 0
                    digits = 0
                default:
                    return nil
                }
            }
            return result
        }
    }

    /// lscpu's rendering of a CPU list: runs of three or more become `a-b`.
    public static func formatList(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = cpus.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            switch j - i {
            case 0: parts.append("\(sorted[i])")
            case 1: parts.append("\(sorted[i]),\(sorted[j])")
            default: parts.append("\(sorted[i])-\(sorted[j])")
            }
            i = j + 1
        }
        return parts.joinedText(separator: ",")
    }

    /// sysfs cache sizes: `32K`, `1024K`, `8M`.
    static func parseSize(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let multiplier: Int
        var digits = Substring(text)
        switch last {
        case "K": multiplier = 1 << 10; digits.removeLast()
        case "M": multiplier = 1 << 20; digits.removeLast()
        case "G": multiplier = 1 << 30; digits.removeLast()
        default: multiplier = 1
        }
        guard let n = Int(digits), n >= 0, n < 1 << 40 else { return nil }
        return n * multiplier
    }

    /// util-linux's size_to_human_string with a space and three-letter suffixes: `64 KiB`, `1.5 MiB`.
    public static func humanSize(_ bytes: Int) -> String {
        let suffixes = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var exp = 0
        while exp + 1 < suffixes.count && bytes >= 1 << (10 * (exp + 1)) { exp += 1 }
        if exp == 0 { return "\(bytes) B" }
        let shift = 10 * exp
        var whole = bytes >> shift
        var frac = bytes & ((1 << shift) - 1)
        if frac != 0 {
            frac = (frac / (1 << (shift - 10)) + 50) / 100
            if frac == 10 { whole += 1; frac = 0 }
        }
        return frac == 0 ? "\(whole) \(suffixes[exp])" : "\(whole).\(frac) \(suffixes[exp])"
    }
}

/// `/proc/cpuinfo` split into its per-processor blocks and the global lines some architectures add.
public struct CPUInfo: Sendable, Hashable, Encodable {
    /// One `key: value` pair, in file order.
    public struct Field: Sendable, Hashable, Encodable {
        public let key: String
        public let value: String
    }

    /// One block per `processor` entry.
    public let processors: [[Field]]
    /// Lines outside processor blocks: ARM's `Hardware`, `Revision`, `Serial`, the legacy
    /// `Processor` line, s390's header.
    public let global: [Field]

    public init(processors: [[Field]], global: [Field]) {
        self.processors = processors
        self.global = global
    }

    /// Parses the text. Never fails: lines without a colon are ignored.
    public init(parsing text: String) {
        var processors: [[Field]] = []
        var global: [Field] = []
        var block: [Field] = []
        func flush() {
            if block.contains(where: { $0.key == "processor" }) {
                processors.append(block)
            } else {
                global += block
            }
            block = []
        }
        for rawLine in text.splitUTF8(separator: 0x0A, omittingEmpty: false) {
            let line = rawLine.trimmingSpaces
            if line.isEmpty { flush(); continue }
            guard let colon = line.utf8.firstIndex(of: 0x3A) else { continue }  // ':'
            let key = String(line[..<colon].trimmingSpaces)
            let value = String(line[line.index(after: colon)...].trimmingSpaces)
            // A new "processor" key inside a block starts a new block (some kernels omit blank lines).
            if key == "processor" && block.contains(where: { $0.key == "processor" }) { flush() }
            block.append(Field(key: key, value: value))
        }
        flush()
        self.processors = processors
        self.global = global
    }

    /// The first value for `key`, looked up in processor 0 and then in the global lines.
    public func value(_ key: String) -> String? {
        processors.first?.first(where: { $0.key == key })?.value
            ?? global.first(where: { $0.key == key })?.value
    }

    /// A human model name: x86's `model name`, ARM's legacy `Processor`, RISC-V's `uarch`, PowerPC's `cpu`.
    public var modelName: String? {
        value("model name") ?? value("Processor") ?? value("uarch") ?? value("cpu")
    }
}


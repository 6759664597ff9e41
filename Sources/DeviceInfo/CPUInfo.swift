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
        var blockHasProcessor = false
        func flush() {
            if blockHasProcessor {
                processors.append(block)
            } else {
                global += block
            }
            block = []
            blockHasProcessor = false
        }
        var text = text  // withUTF8 needs it mutable; a native string is not copied
        text.withUTF8 { bytes in
            forEachLine(bytes) { rawLine in
                let line = trimmingSpaces(rawLine, in: bytes)
                if line.isEmpty { flush(); return }
                guard let colon = bytes[line].firstIndex(of: 0x3A) else { return }  // ':'
                let key = String(decoding: bytes[trimmingSpaces(line.lowerBound..<colon, in: bytes)], as: UTF8.self)
                let value = String(decoding: bytes[trimmingSpaces(colon + 1..<line.upperBound, in: bytes)], as: UTF8.self)
                // A new "processor" key inside a block starts a new block (some kernels omit blank lines).
                if key == "processor" {
                    if blockHasProcessor { flush() }
                    blockHasProcessor = true
                }
                block.append(Field(key: key, value: value))
            }
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


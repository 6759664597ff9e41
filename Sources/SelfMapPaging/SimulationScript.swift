/// A `labctl paging sim` script: machine settings, then one operation per line.
///
/// ```
/// # a fork with copy-on-write
/// mode x86_64
/// frames 256
/// map 0x400000 0x800000 RW|US pages 4
/// touch 0x7F0000 write          # demand paging: a fresh page and the tables above it
/// fork child cow
/// switch child
/// store 0x400000 7              # the first write copies the shared page
/// switch init
/// load 0x400000 expect 0
/// kill child
/// audit
/// ```
///
/// A line that starts with `!` must fail. `#` starts a comment. Numbers are decimal or `0x` hex,
/// with `_` allowed between digits.
public struct SimulationScript: Sendable, Hashable {
    /// The machine the script runs on.
    public struct Settings: Sendable, Hashable {
        public var mode: PagingMode
        public var selfMapIndex: Int?
        public var frames: Int
        public var tlbCapacity: Int
        public var secondLevelTLBCapacity: Int

        public init(mode: PagingMode = .x86_64, selfMapIndex: Int? = nil, frames: Int = 4096, tlbCapacity: Int = 64,
                    secondLevelTLBCapacity: Int = 2048) {
            self.mode = mode
            self.selfMapIndex = selfMapIndex
            self.frames = frames
            self.tlbCapacity = tlbCapacity
            self.secondLevelTLBCapacity = secondLevelTLBCapacity
        }
    }

    public enum Command: Sendable, Hashable {
        /// Maps `count` consecutive pages of `size` from `virtualAddress` to `physicalAddress`.
        case map(virtualAddress: UInt64, physicalAddress: UInt64, size: PageSize, flags: EntryFlags, count: Int, tables: TableCreation)
        case unmap(virtualAddress: UInt64, count: Int)
        case protect(virtualAddress: UInt64, set: EntryFlags, clear: EntryFlags)
        /// An access by a program or the kernel; faults go to the kernel's handler.
        case touch(virtualAddress: UInt64, access: Access)
        case load(virtualAddress: UInt64, expected: UInt64?)
        case store(virtualAddress: UInt64, value: UInt64)
        /// `expected` nil: no check; `.some(nil)`: must be unmapped.
        case translate(virtualAddress: UInt64, expected: UInt64??)
        case fork(name: String, strategy: ForkStrategy)
        case switchTo(name: String)
        case kill(name: String)
        case invalidatePage(virtualAddress: UInt64)
        case flush(includingGlobal: Bool)
        /// Whether the kernel issues INVLPG after changing an entry.
        case invalidation(Bool)
        case accounting
        case audit
    }

    /// One operation and where it came from.
    public struct Step: Sendable, Hashable {
        public let line: Int
        /// The line without its comment and `!`.
        public let text: String
        public let command: Command
        public let mustFail: Bool
    }

    public let file: String
    public var settings: Settings
    public var steps: [Step]

    /// The most pages one `map` or `unmap` line may name, and the most frames a machine may have.
    public static let maximumPageCount = 1 << 20
    public static let maximumFrames = 1 << 22

    /// Parses the whole script before anything runs, so a bad line changes nothing.
    /// `defaults` are the settings the script's `mode`, `index`, `frames` and `tlb` lines override.
    public init(parsing text: String, file: String, defaults: Settings = Settings()) throws(SimulationScriptError) {
        self.file = file
        settings = defaults
        steps = []
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard !words.isEmpty else { continue }
            var mustFail = false
            if words[0] == "!" {
                words.removeFirst()
                mustFail = true
            } else if words[0].hasPrefix("!") {
                words[0].removeFirst()
                mustFail = true
            }
            var reader = WordReader(words: words, file: file, line: lineNumber)
            guard let keyword = reader.next() else { throw reader.error("'!' needs a command after it") }
            if let setting = try Self.setting(keyword, &reader) {
                guard steps.isEmpty else { throw reader.error("'\(keyword)' must come before the first operation") }
                guard !mustFail else { throw reader.error("'!' applies to operations, not to '\(keyword)'") }
                setting(&settings)
                try reader.end()
                continue
            }
            let command = try Self.command(keyword, &reader)
            try reader.end()
            steps.append(Step(line: lineNumber, text: words.joined(separator: " "), command: command, mustFail: mustFail))
        }
    }

    static func setting(_ keyword: String, _ r: inout WordReader) throws(SimulationScriptError) -> ((inout Settings) -> Void)? {
        switch keyword {
        case "mode":
            let word = try r.word("a mode (i386, pae, x86_64 or la57)")
            guard let mode = PagingMode(rawValue: word) else { throw r.error("unknown mode '\(word)' (i386, pae, x86_64 or la57)") }
            return { $0.mode = mode }
        case "index":
            let index = try r.count("a self-map slot", range: 0...4095)
            return { $0.selfMapIndex = index }
        case "frames":
            let frames = try r.count("a number of frames", range: 8...maximumFrames)
            return { $0.frames = frames }
        case "tlb", "stlb":
            let capacity = try r.count("a TLB size (0 for none)", range: 0...TLB.maximumCapacity)
            guard capacity & (capacity - 1) == 0 else { throw r.error("a TLB holds a power of two of entries, not \(capacity)") }
            return keyword == "tlb" ? { $0.tlbCapacity = capacity } : { $0.secondLevelTLBCapacity = capacity }
        default:
            return nil
        }
    }

    static func command(_ keyword: String, _ r: inout WordReader) throws(SimulationScriptError) -> Command {
        switch keyword {
        case "map":
            let va = try r.address("a virtual address")
            let pa = try r.address("a physical address")
            var flags: EntryFlags = [.writable]
            var size = PageSize.size4KiB
            var count = 1
            var tables = TableCreation.topDown
            while let word = r.next() {
                switch word {
                case "pages": count = try r.count("a page count", range: 1...maximumPageCount)
                case "onfault": tables = .onFault
                case "topdown": tables = .topDown
                default:
                    guard let parsed = EntryFlags.parse(flagsAndSize: word) else {
                        throw r.error("'\(word)' is not flags (\(EntryFlags.names.map(\.1).joined(separator: "|")), 4K 2M 4M 1G), 'pages N', 'onfault' or 'topdown'")
                    }
                    flags = parsed.flags ?? flags
                    size = parsed.size ?? size
                }
            }
            return .map(virtualAddress: va, physicalAddress: pa, size: size, flags: flags, count: count, tables: tables)
        case "unmap":
            let va = try r.address("a virtual address")
            var count = 1
            if r.peek != nil {
                try r.expect("pages")
                count = try r.count("a page count", range: 1...maximumPageCount)
            }
            return .unmap(virtualAddress: va, count: count)
        case "protect":
            let va = try r.address("a virtual address")
            var set: EntryFlags = [], clear: EntryFlags = []
            guard r.peek != nil else { throw r.error("expected +FLAG or -FLAG after the address") }
            while let word = r.next() {
                guard let sign = word.first, sign == "+" || sign == "-", let flags = EntryFlags(names: String(word.dropFirst())), !flags.isEmpty else {
                    throw r.error("'\(word)' is not +FLAG or -FLAG (\(EntryFlags.names.map(\.1).joined(separator: " ")))")
                }
                if sign == "+" { set.formUnion(flags) } else { clear.formUnion(flags) }
            }
            return .protect(virtualAddress: va, set: set, clear: clear)
        case "touch":
            let va = try r.address("a virtual address")
            var access = Access(user: true)
            while let word = r.next() {
                switch word {
                case "read": access.write = false; access.execute = false
                case "write": access.write = true; access.execute = false
                case "exec": access.execute = true; access.write = false
                case "user": access.user = true
                case "kernel": access.user = false
                default: throw r.error("'\(word)' is not read, write, exec, user or kernel")
                }
            }
            return .touch(virtualAddress: va, access: access)
        case "load":
            let va = try r.address("a virtual address")
            var expected: UInt64?
            if r.peek != nil {
                try r.expect("expect")
                expected = try r.address("a value")
            }
            return .load(virtualAddress: va, expected: expected)
        case "store":
            return .store(virtualAddress: try r.address("a virtual address"), value: try r.address("a value"))
        case "translate":
            let va = try r.address("a virtual address")
            var expected: UInt64??
            if r.peek != nil {
                try r.expect("expect")
                if r.peek == "unmapped" {
                    _ = r.next()
                    expected = .some(nil)
                } else {
                    expected = .some(try r.address("a physical address or 'unmapped'"))
                }
            }
            return .translate(virtualAddress: va, expected: expected)
        case "fork":
            let name = try r.name()
            var strategy = ForkStrategy.copyOnWrite
            if let word = r.next() {
                switch word {
                case "eager": strategy = .eager
                case "cow": strategy = .copyOnWrite
                default: throw r.error("'\(word)' is not eager or cow")
                }
            }
            return .fork(name: name, strategy: strategy)
        case "switch": return .switchTo(name: try r.name())
        case "kill": return .kill(name: try r.name())
        case "invlpg": return .invalidatePage(virtualAddress: try r.address("a virtual address"))
        case "flush":
            if r.peek != nil {
                try r.expect("global")
                return .flush(includingGlobal: true)
            }
            return .flush(includingGlobal: false)
        case "invalidation":
            switch try r.word("on or off") {
            case "on": return .invalidation(true)
            case "off": return .invalidation(false)
            case let word: throw r.error("'\(word)' is not on or off")
            }
        case "accounting": return .accounting
        case "audit": return .audit
        default:
            throw r.error("unknown command '\(keyword)' (map, unmap, protect, touch, load, store, translate, fork, switch, kill, invlpg, flush, invalidation, accounting, audit; before them mode, index, frames, tlb, stlb)")
        }
    }
}

/// A script error: `file:line: message`.
public struct SimulationScriptError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

/// The words of one line, consumed left to right.
struct WordReader {
    let words: [String]
    let file: String
    let line: Int
    var position = 0

    var peek: String? { position < words.count ? words[position] : nil }

    mutating func next() -> String? {
        defer { position += 1 }
        return peek
    }

    func error(_ message: String) -> SimulationScriptError {
        SimulationScriptError(file: file, line: line, message: message)
    }

    mutating func word(_ what: String) throws(SimulationScriptError) -> String {
        guard let word = next() else { throw error("expected \(what) after '\(words[..<min(position - 1, words.count)].joined(separator: " "))'") }
        return word
    }

    mutating func expect(_ keyword: String) throws(SimulationScriptError) {
        let word = try word("'\(keyword)'")
        guard word == keyword else { throw error("expected '\(keyword)', found '\(word)'") }
    }

    mutating func address(_ what: String) throws(SimulationScriptError) -> UInt64 {
        let word = try word(what)
        guard let value = Self.number(word) else { throw error("'\(word)' is not \(what) (decimal or 0x hex)") }
        return value
    }

    mutating func count(_ what: String, range: ClosedRange<Int>) throws(SimulationScriptError) -> Int {
        let word = try word(what)
        guard let value = Self.number(word), value <= UInt64(range.upperBound), Int(value) >= range.lowerBound else {
            throw error("'\(word)' is not \(what) in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(value)
    }

    mutating func name() throws(SimulationScriptError) -> String {
        let word = try word("an address space name")
        guard word.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw error("'\(word)' is not a name (letters, digits, _ and -)")
        }
        return word
    }

    func end() throws(SimulationScriptError) {
        if position < words.count { throw error("unexpected '\(words[position...].joined(separator: " "))'") }
    }

    static func number(_ text: String) -> UInt64? {
        guard let first = text.first, first != "_", text.last != "_" else { return nil }
        let digits = text.filter { $0 != "_" }
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            guard text.dropFirst(2).first != "_" else { return nil }
            let hex = digits.dropFirst(2)
            return hex.isEmpty ? nil : UInt64(hex, radix: 16)
        }
        return UInt64(digits)
    }
}

extension EntryFlags {
    /// Parses `RW|US|2M`: flag names and at most one page size (4K, 2M, 4M, 1G), joined by `|` or `,`.
    /// `flags` is nil when the text names only a size.
    public static func parse(flagsAndSize text: String) -> (flags: EntryFlags?, size: PageSize?)? {
        var names: [Substring] = []
        var size: PageSize?
        for token in text.split(whereSeparator: { $0 == "|" || $0 == "," }) {
            if let s = PageSize(token: token) {
                guard size == nil else { return nil }
                size = s
            } else {
                names.append(token)
            }
        }
        guard !names.isEmpty else { return size.map { (nil, $0) } }
        guard let flags = EntryFlags(names: names.joined(separator: "|")) else { return nil }
        return (flags, size)
    }
}

extension PageSize {
    /// `4K`, `2M`, `4M` or `1G` (case-insensitive).
    public init?<S: StringProtocol>(token: S) {
        switch token.uppercased() {
        case "4K": self = .size4KiB
        case "2M": self = .size2MiB
        case "4M": self = .size4MiB
        case "1G": self = .size1GiB
        default: return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What uname(2) reports.
public struct UnameInfo: Sendable, Hashable, Encodable {
    public let sysname: String
    public let nodename: String
    public let release: String
    public let version: String
    public let machine: String

    public init(sysname: String, nodename: String, release: String, version: String, machine: String) {
        self.sysname = sysname
        self.nodename = nodename
        self.release = release
        self.version = version
        self.machine = machine
    }

    /// The running kernel's uname(2).
    public static func live() -> UnameInfo? {
        var u = utsname()
        guard uname(&u) == 0 else { return nil }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        return UnameInfo(sysname: field(u.sysname), nodename: field(u.nodename), release: field(u.release),
                         version: field(u.version), machine: field(u.machine))
    }

    /// The line `uname -a` prints (GNU coreutils adds the operating system name).
    public var unameAll: String {
        "\(sysname) \(nodename) \(release) \(version) \(machine) GNU/Linux"
    }
}

/// `/proc/version`: `Linux version R (BUILDER) (COMPILER...) #N ...`.
public struct KernelVersion: Sendable, Hashable, Encodable {
    public let raw: String
    public let release: String?
    /// `user@host` that built the kernel.
    public let builder: String?
    /// The compiler text, e.g. `clang version 6.0.9 for Android NDK`.
    public let compiler: String?
    /// What follows the compiler: build number, flags, date.
    public let build: String?

    public init(parsing text: String) {
        raw = text
        // On the UTF-8 bytes: the delimiters are ASCII, and stepping through Characters (or a
        // Substring's UTF-8 indices) cost hundreds of instructions a step.
        var text = text  // withUTF8 needs it mutable; a native string is not copied
        let parts = text.withUTF8 { b -> (release: String, groups: [String], build: String?)? in
            let prefix = "Linux version ".utf8
            guard b.count >= prefix.count, b.prefix(prefix.count).elementsEqual(prefix) else { return nil }
            func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[range]), as: UTF8.self) }
            func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }
            var end = b.count
            while end > prefix.count && isSpace(b[end - 1]) { end -= 1 }
            var i = prefix.count
            while i < end && b[i] != 0x20 { i += 1 }
            let release = string(prefix.count..<i)
            while i < end && isSpace(b[i]) { i += 1 }
            // Parenthesised groups may nest, e.g. "(gcc (Debian 12.2.0-14) 12.2.0, GNU ld ...)".
            var groups: [String] = []
            while i < end && b[i] == 0x28 {  // '('
                var depth = 0
                var close = i
                for j in i..<end {
                    if b[j] == 0x28 { depth += 1 }
                    if b[j] == 0x29 { depth -= 1; if depth == 0 { close = j; break } }  // ')'
                }
                guard close > i else { break }
                groups.append(string(i + 1..<close))
                i = close + 1
                while i < end && isSpace(b[i]) { i += 1 }
            }
            return (release, groups, i < end ? string(i..<end) : nil)
        }
        guard let parts else {
            release = nil; builder = nil; compiler = nil; build = nil
            return
        }
        release = parts.release
        builder = parts.groups.first
        compiler = parts.groups.count > 1 ? parts.groups[1] : nil
        build = parts.build
    }
}

/// `/proc/cmdline`: arguments split as the kernel does, honouring double quotes.
public struct KernelCommandLine: Sendable, Hashable, Encodable {
    public struct Parameter: Sendable, Hashable, Encodable {
        public let key: String
        /// nil for a bare flag such as `rw`.
        public let value: String?
    }

    public let raw: String
    public let parameters: [Parameter]

    public init(parsing text: String) {
        raw = text
        // Byte by byte, each parameter's Strings made straight from the text's bytes: iterating
        // Characters cost about 900 instructions per character, a byte array per token 2,000.
        var params: [Parameter] = []
        var text = text  // withUTF8 needs it mutable; a native string is not copied
        text.withUTF8 { bytes in
            func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 }
            var i = 0
            while i < bytes.count {
                if isSpace(bytes[i]) { i += 1; continue }
                let start = i
                var quotes = 0
                while i < bytes.count && (quotes % 2 == 1 || !isSpace(bytes[i])) {
                    if bytes[i] == 0x22 { quotes += 1 }  // '"' quotes spaces and is dropped
                    i += 1
                }
                let token = UnsafeBufferPointer(rebasing: bytes[start..<i])
                if quotes == 0 {
                    params.append(Self.parameter(token))
                } else {
                    let unquoted = token.filter { $0 != 0x22 }
                    if !unquoted.isEmpty { unquoted.withUnsafeBufferPointer { params.append(Self.parameter($0)) } }
                }
            }
        }
        parameters = params
    }

    private static func parameter(_ token: UnsafeBufferPointer<UInt8>) -> Parameter {
        guard let eq = token.firstIndex(of: 0x3D) else { return Parameter(key: String(decoding: token, as: UTF8.self), value: nil) }
        return Parameter(key: String(decoding: UnsafeBufferPointer(rebasing: token[..<eq]), as: UTF8.self),
                         value: String(decoding: UnsafeBufferPointer(rebasing: token[(eq + 1)...]), as: UTF8.self))
    }

    /// Every value given for `key`, in order (keys may repeat).
    public func values(_ key: String) -> [String] {
        parameters.filter { $0.key == key }.compactMap(\.value)
    }
}

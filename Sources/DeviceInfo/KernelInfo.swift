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
        let prefix = "Linux version "
        guard text.hasPrefix(prefix) else {
            release = nil; builder = nil; compiler = nil; build = nil
            return
        }
        var rest = Substring(text.dropFirst(prefix.count))
        let releaseEnd = rest.firstIndex(of: " ") ?? rest.endIndex
        release = String(rest[..<releaseEnd])
        rest = rest[releaseEnd...].trimmingSpaces
        // Parenthesised groups may nest, e.g. "(gcc (Debian 12.2.0-14) 12.2.0, GNU ld ...)".
        var groups: [String] = []
        while rest.first == "(" {
            var depth = 0
            var end = rest.startIndex
            for i in rest.indices {
                if rest[i] == "(" { depth += 1 }
                if rest[i] == ")" { depth -= 1; if depth == 0 { end = i; break } }
            }
            guard depth == 0, end > rest.startIndex else { break }
            groups.append(String(rest[rest.index(after: rest.startIndex)..<end]))
            rest = rest[rest.index(after: end)...].trimmingSpaces
        }
        builder = groups.first
        compiler = groups.count > 1 ? groups[1] : nil
        build = rest.isEmpty ? nil : String(rest)
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
        // Byte by byte: iterating Characters cost about 900 instructions per character.
        var params: [Parameter] = []
        var token: [UInt8] = []
        var inQuotes = false
        var tokens: [String] = []
        for byte in text.utf8 {
            if byte == 0x22 { inQuotes.toggle(); continue }  // '"'
            if !inQuotes && (byte == 0x20 || byte == 0x0A || byte == 0x09) {
                if !token.isEmpty { tokens.append(String(decoding: token, as: UTF8.self)) }
                token.removeAll(keepingCapacity: true)
                continue
            }
            token.append(byte)
        }
        if !token.isEmpty { tokens.append(String(decoding: token, as: UTF8.self)) }
        for t in tokens {
            if let eq = t.utf8.firstIndex(of: 0x3D) {  // '='
                params.append(Parameter(key: String(t[..<eq]), value: String(t[t.utf8.index(after: eq)...])))
            } else {
                params.append(Parameter(key: t, value: nil))
            }
        }
        parameters = params
    }

    /// Every value given for `key`, in order (keys may repeat).
    public func values(_ key: String) -> [String] {
        parameters.filter { $0.key == key }.compactMap(\.value)
    }
}

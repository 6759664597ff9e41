/// Where a token came from, for `file:line` errors.
public struct ConfigLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }
}

/// A keepalived.conf error: one line, `FILE:LINE: message`.
public struct KeepalivedConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: ConfigLocation?
    public var message: String
    public init(_ location: ConfigLocation?, _ message: String) {
        self.location = location
        self.message = message
    }
    public var description: String { location.map { "\($0): \(message)" } ?? message }
}

/// How the parser reaches files, so that `include` can be tested without a file system.
public struct KeepalivedFileAccess: Sendable {
    /// The bytes of a file, or a thrown error that describes why not.
    public var read: @Sendable (String) throws -> [UInt8]
    /// The files matching a glob pattern, sorted; the pattern itself when it has no wildcard.
    public var glob: @Sendable (String) -> [String]

    public init(read: @escaping @Sendable (String) throws -> [UInt8], glob: @escaping @Sendable (String) -> [String]) {
        self.read = read
        self.glob = glob
    }

    /// In-memory files, for tests and fuzzing. Globs match exact names only.
    public static func memory(_ files: [String: String]) -> KeepalivedFileAccess {
        KeepalivedFileAccess(
            read: { path in
                guard let text = files[path] else { throw KeepalivedConfigError(nil, "\(path): no such file") }
                return Array(text.utf8)
            },
            glob: { pattern in files[pattern] != nil ? [pattern] : [] })
    }
}

/// One keepalived statement: a keyword, its arguments on the same line, and an optional block.
struct KeepalivedStatement: Sendable, Hashable {
    var keyword: String
    var arguments: [String]
    var block: [KeepalivedStatement]?
    var location: ConfigLocation
}

/// Tokens and statements. keepalived's syntax is line-oriented: a statement is a keyword and the
/// words after it on its line; `{` opens a block on the same line or the next. `#` and `!` start
/// comments; double quotes group words. `include PATTERN` splices files in wherever it appears.
enum KeepalivedSyntax {
    struct Token: Hashable {
        var text: String
        var quoted: Bool
        var location: ConfigLocation
    }

    static let maxIncludeDepth = 8

    static func tokens(of path: String, access: KeepalivedFileAccess, depth: Int = 0,
                       from: ConfigLocation? = nil) throws -> [Token] {
        let bytes: [UInt8]
        do { bytes = try access.read(path) } catch let error as KeepalivedConfigError {
            throw KeepalivedConfigError(from, error.location == nil ? error.message : error.description)
        } catch {
            throw KeepalivedConfigError(from, "\(path): \(error)")
        }
        var raw: [Token] = []
        var line = 1, i = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            if c == UInt8(ascii: "\n") { line += 1; i += 1; continue }
            if c == 0x20 || c == 0x09 || c == 0x0D { i += 1; continue }
            let here = ConfigLocation(file: path, line: line)
            if c == UInt8(ascii: "#") || c == UInt8(ascii: "!") {
                while i < n && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            }
            if c == UInt8(ascii: "{") || c == UInt8(ascii: "}") {
                raw.append(Token(text: String(UnicodeScalar(c)), quoted: false, location: here))
                i += 1
                continue
            }
            if c == UInt8(ascii: "\"") {
                var j = i + 1
                while j < n && bytes[j] != UInt8(ascii: "\"") && bytes[j] != UInt8(ascii: "\n") { j += 1 }
                guard j < n, bytes[j] == UInt8(ascii: "\"") else { throw KeepalivedConfigError(here, "unterminated quoted string") }
                raw.append(Token(text: try text(bytes[(i + 1)..<j], here), quoted: true, location: here))
                i = j + 1
                continue
            }
            var j = i
            while j < n, !isDelimiter(bytes[j]) { j += 1 }
            raw.append(Token(text: try text(bytes[i..<j], here), quoted: false, location: here))
            i = j
        }
        // Splice includes: `include` and its pattern must sit on one line.
        var out: [Token] = []
        var k = 0
        while k < raw.count {
            let token = raw[k]
            if token.text == "include" && !token.quoted {
                guard k + 1 < raw.count, raw[k + 1].location == token.location, !["{", "}"].contains(raw[k + 1].text) else {
                    throw KeepalivedConfigError(token.location, "include needs a file or pattern")
                }
                if k + 2 < raw.count, raw[k + 2].location == token.location {
                    throw KeepalivedConfigError(token.location, "include takes one file or pattern")
                }
                guard depth < maxIncludeDepth else { throw KeepalivedConfigError(token.location, "includes nested deeper than \(maxIncludeDepth)") }
                var pattern = raw[k + 1].text
                if !pattern.hasPrefix("/"), let slash = path.lastIndex(of: "/") { pattern = String(path[...slash]) + pattern }
                let files = access.glob(pattern)
                guard !files.isEmpty || pattern.contains(where: { "*?[".contains($0) }) else {
                    throw KeepalivedConfigError(token.location, "include \(raw[k + 1].text): no such file")
                }
                for file in files {
                    out += try tokens(of: file, access: access, depth: depth + 1, from: token.location)
                }
                k += 2
                continue
            }
            out.append(token)
            k += 1
        }
        return out
    }

    private static func isDelimiter(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
            || c == UInt8(ascii: "\"") || c == UInt8(ascii: "#") || c == UInt8(ascii: "!")
    }

    private static func text(_ bytes: ArraySlice<UInt8>, _ location: ConfigLocation) throws -> String {
        guard let s = String(validating: bytes, as: UTF8.self), !s.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw KeepalivedConfigError(location, "invalid UTF-8 or control character")
        }
        return s
    }

    /// Groups tokens into statements with nested blocks.
    static func statements(_ tokens: [Token]) throws -> [KeepalivedStatement] {
        var index = 0
        let result = try block(tokens, &index, opener: nil)
        return result
    }

    private static func block(_ tokens: [Token], _ index: inout Int, opener: Token?) throws -> [KeepalivedStatement] {
        var out: [KeepalivedStatement] = []
        while index < tokens.count {
            let head = tokens[index]
            if head.text == "}" && !head.quoted {
                guard opener != nil else { throw KeepalivedConfigError(head.location, "'}' without a matching '{'") }
                index += 1
                return out
            }
            if head.text == "{" && !head.quoted {
                throw KeepalivedConfigError(head.location, "'{' without a keyword before it")
            }
            index += 1
            var arguments: [String] = []
            while index < tokens.count, tokens[index].location == head.location,
                  tokens[index].quoted || (tokens[index].text != "{" && tokens[index].text != "}") {
                arguments.append(tokens[index].text)
                index += 1
            }
            var statement = KeepalivedStatement(keyword: head.text, arguments: arguments, block: nil, location: head.location)
            if index < tokens.count, tokens[index].text == "{", !tokens[index].quoted {
                let open = tokens[index]
                index += 1
                statement.block = try block(tokens, &index, opener: open)
            }
            out.append(statement)
        }
        if let opener { throw KeepalivedConfigError(opener.location, "'{' is never closed") }
        return out
    }
}

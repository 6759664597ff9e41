import FoundationEssentials
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `--json`, shared by every command that prints data.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    /// Prints `value` as JSON (sorted keys, pretty) if `--json`, else calls `text`.
    func emit<T: Encodable>(_ value: T, text: () throws -> Void) throws {
        try Self.emit(value, json: json, text: text)
    }

    static func emit<T: Encodable>(_ value: T, json: Bool, text: () throws -> Void) throws {
        if json {
            try JSONOutput.print(value)
        } else {
            try text()
        }
    }
}

enum JSONOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}

/// `write(2)` until every byte is out or it fails, retrying on EINTR; returns the errno, or 0.
///
/// Plain, not swift-system's `writeAll`: that one's first call costs a scan of every protocol
/// conformance in the binary (for `Result<Int, Errno>`), a measurable share of `wg show`'s start-up.
func writeFully(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Int32 {
    var written = 0
    while written < raw.count {
        let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
        if n < 0 {
            if errno == EINTR { continue }
            return errno
        }
        written += n
    }
    return 0
}

enum StandardOutput {
    /// Writes bytes to standard output directly (after anything `print` buffered).
    static func write(_ bytes: [UInt8]) throws {
        fflush(nil)  // every C stream, stdout among them
        let failure = bytes.withUnsafeBytes { writeFully(STDOUT_FILENO, $0) }
        if failure != 0 { throw LabError("standard output: \(String(cString: strerror(failure)))") }
    }
}

enum StandardError {
    /// Writes all of `text` (a pipe may take it in pieces); a failure has nowhere to be reported.
    static func write(_ text: String) {
        var text = text  // withUTF8 needs it mutable; a native string is not copied
        _ = text.withUTF8 { writeFully(STDERR_FILENO, UnsafeRawBufferPointer($0)) }
    }
}

enum FileBytes {
    /// A whole file, up to `limit` bytes.
    static func read(_ path: String, limit: Int) throws(LabError) -> [UInt8] {
        guard let file = fopen(path, "r") else { throw LabError("\(path): \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var info = stat()
        if fstat(fileno(file), &info) == 0, info.st_size > 0 { bytes.reserveCapacity(min(Int(info.st_size), limit) + 1) }  // no regrowth
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        if ferror(file) != 0 { throw LabError("\(path): read error") }
        return bytes
    }
}

extension FileBytes {
    /// Lends a whole file's bytes, up to `limit`: a regular file is mapped rather than copied, so
    /// its pages come straight from the page cache, many per fault, and are never zeroed or
    /// copied. (A setconf of 50,000 peers reads 5 MB; copied, that was 1,250 page faults.)
    /// Anything that cannot be mapped is read. A file truncated while mapped would fault
    /// (SIGBUS), as with any reader that maps its input.
    static func withContents<R>(of path: String, limit: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LabError("\(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        let size = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : 0
        if size > 0 && size <= limit, let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED {
            close(fd)
            defer { munmap(map, size) }
            return try body(UnsafeBufferPointer(start: map.assumingMemoryBound(to: UInt8.self), count: size))
        }
        close(fd)
        return try read(path, limit: limit).withUnsafeBufferPointer(body)
    }
}

enum StandardInput {
    /// All of standard input.
    static func readAll() -> [UInt8] {
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}

/// Left-aligned columns for human output.
struct TextTable {
    var rows: [[String]] = []
    init(header: [String]) { rows.append(header) }
    mutating func add(_ row: [String]) { rows.append(row) }
    func render() -> String {
        let widths = rows.reduce(into: [Int](repeating: 0, count: rows.first?.count ?? 0)) { w, row in
            for (i, cell) in row.enumerated() where i < w.count { w[i] = max(w[i], Self.width(cell)) }
        }
        // Built as bytes: String(repeating:count:) and + per cell took 3% of a device report's instructions.
        var out: [UInt8] = []
        for (r, row) in rows.enumerated() {
            if r > 0 { out.append(0x0A) }
            for (i, cell) in row.enumerated() {
                if i > 0 { out.append(contentsOf: [0x20, 0x20]) }
                out.append(contentsOf: cell.utf8)
                if i < row.count - 1 && i < widths.count {
                    out.append(contentsOf: repeatElement(0x20, count: widths[i] - Self.width(cell)))
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Columns a cell takes: its Characters, counted only when it is not plain ASCII.
    private static func width(_ cell: String) -> Int {
        cell.utf8.contains { $0 >= 0x80 } ? cell.count : cell.utf8.count
    }
}

/// The non-empty lines of `text`, split at each LF byte. `split(separator: "\n")` segments the
/// text into Characters first, several times the work for the same lines (a CR stays on its line).
func nonEmptyLines(_ text: String) -> [String] {
    text.utf8.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
}

/// Seconds with three decimals, `12.345` (`+0.400` with `signed`), as the lab prints times.
func secondsText(_ v: Double, signed: Bool = false) -> String {
    let ms = Int((abs(v) * 1000).rounded())
    let frac = ms % 1000
    let sign = v < 0 && ms != 0 ? "-" : (signed ? "+" : "")
    return "\(sign)\(ms / 1000).\(frac < 10 ? "00" : frac < 100 ? "0" : "")\(frac)"
}

/// CLOCK_BOOTTIME in seconds: the clock of /proc/uptime.
func bootSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_BOOTTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

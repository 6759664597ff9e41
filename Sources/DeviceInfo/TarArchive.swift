/// Why a dump was refused. Each case renders as one line naming the entry.
public enum DumpError: Error, Sendable, Hashable, CustomStringConvertible {
    case truncated(entry: String?)
    case badHeader(offset: Int, reason: String)
    case absolutePath(String)
    case pathTraversal(String)
    case symlinkOutside(entry: String, target: String)
    case hardlinkTarget(entry: String, target: String)
    case entryTooLarge(entry: String, size: Int, limit: Int)
    case archiveTooLarge(limit: Int)
    case tooManyEntries(limit: Int)
    case unsupportedEntry(entry: String, type: Character)
    case compression(String)
    case notADump(String)

    public var description: String {
        switch self {
        case .truncated(let entry): "truncated archive" + (entry.map { " in entry '\($0)'" } ?? "")
        case .badHeader(let offset, let reason): "bad tar header at byte \(offset): \(reason)"
        case .absolutePath(let p): "entry '\(p)' has an absolute path"
        case .pathTraversal(let p): "entry '\(p)' leaves the dump through '..'"
        case .symlinkOutside(let e, let t): "symlink '\(e)' points outside the dump ('\(t)')"
        case .hardlinkTarget(let e, let t): "hard link '\(e)' names '\(t)', which is not an earlier file in the dump"
        case .entryTooLarge(let e, let size, let limit): "entry '\(e)' is \(size) bytes; the limit is \(limit)"
        case .archiveTooLarge(let limit): "the dump unpacks to more than \(limit) bytes"
        case .tooManyEntries(let limit): "the dump has more than \(limit) entries"
        case .unsupportedEntry(let e, let t): "entry '\(e)' has unsupported type '\(t)'"
        case .compression(let why): "gzip: \(why)"
        case .notADump(let why): why
        }
    }
}

/// Size caps applied while unpacking a dump.
public struct DumpLimits: Sendable, Hashable {
    public var fileBytes: Int
    public var totalBytes: Int
    public var entries: Int

    public init(fileBytes: Int = 4 << 20, totalBytes: Int = 64 << 20, entries: Int = 100_000) {
        self.fileBytes = fileBytes
        self.totalBytes = totalBytes
        self.entries = entries
    }

    /// The most a (compressed or plain) archive may hold: the files plus room for their headers.
    var archiveBytes: Int { totalBytes + entries * 1024 }
}

/// A ustar/GNU/pax tar archive, read into memory with every path checked.
///
/// Regular files are kept under their absolute path on the device (`proc/cpuinfo` becomes
/// `/proc/cpuinfo`). Directories are implied. Symlinks are never followed: one that points
/// outside the dump is an error, one that stays inside is dropped. Hard links must name an
/// earlier file. Devices, FIFOs and sparse files are refused.
public enum TarArchive {
    public static func read(_ bytes: [UInt8], limits: DumpLimits = DumpLimits()) throws(DumpError) -> [String: [UInt8]] {
        try table(bytes, limits: limits).dictionary
    }

    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, limits: DumpLimits) throws(DumpError) -> [String: [UInt8]] {
        try table(Array(bytes), limits: limits).dictionary
    }

    /// The archive's files as a table over `bytes` itself, every path checked.
    static func table(_ bytes: [UInt8], limits: DumpLimits) throws(DumpError) -> FileTable {
        var paths: [UInt8] = []
        var entries: [FileTable.Entry] = []
        try bytes.withUnsafeBufferPointer { buffer throws(DumpError) in
            try scan(buffer, limits: limits, paths: &paths, entries: &entries)
        }
        return FileTable(storage: bytes, paths: paths, unsorted: entries)
    }

    /// Appends each regular file's device path to `paths`, and the file to `entries`.
    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>, limits: DumpLimits,
                             paths: inout [UInt8], entries: inout [FileTable.Entry]) throws(DumpError) {
        paths.reserveCapacity(bytes.count / 16)
        entries.reserveCapacity(bytes.count / 1024)
        var offset = 0
        var total = 0
        var count = 0
        var longName: [UInt8]?
        var paxPath: [UInt8]?
        var name: [UInt8] = []  // the entry's name as the archive gives it
        /// Each file's entry by path, built at the first hard link: the targets of thousands of
        /// links are then found by hash, not by a scan of the entries each.
        var linkTargets: [[UInt8]: Int]?
        while true {
            guard offset + 512 <= bytes.count else {
                // Some writers stop without the two zero blocks; a clean end on a block boundary is fine.
                if offset == bytes.count { break }
                throw .truncated(entry: nil)
            }
            let header = UnsafeBufferPointer(rebasing: bytes[offset..<offset + 512])
            if header[0] == 0 && isZeroBlock(header) { break }
            count += 1
            if count > limits.entries { throw .tooManyEntries(limit: limits.entries) }
            guard checksumMatches(header) else { throw .badHeader(offset: offset, reason: "checksum mismatch") }
            guard let size = octal(header, 124, 12) else { throw .badHeader(offset: offset, reason: "invalid size field") }
            let type = header[156]
            let isMeta = type == 0x4C || type == 0x78 || type == 0x67  // 'L', 'x', 'g'
            let isFile = type == 0x30 || type == 0 || type == 0x37  // '0', NUL, '7'
            name.removeAll(keepingCapacity: true)
            if !isMeta, let long = longName ?? paxPath {
                name += long
            } else {
                if header[257..<262].elementsEqual("ustar".utf8) {
                    let prefix = field(header, 345, 155)
                    if !prefix.isEmpty { name += prefix; name.append(0x2F) }
                }
                name += field(header, 0, 100)
            }
            if isMeta {
                guard size <= 65536 else { throw .badHeader(offset: offset, reason: "metadata entry of \(size) bytes") }
            } else if isFile, size > limits.fileBytes {
                var scratch: [UInt8] = []
                try appendDevicePath(name, to: &scratch, entry: name)
                throw .entryTooLarge(entry: text(name), size: size, limit: limits.fileBytes)
            }
            let dataStart = offset + 512
            guard size <= bytes.count - dataStart else { throw .truncated(entry: text(name)) }
            let data = dataStart..<dataStart + size
            offset = min(bytes.count, dataStart + (size + 511) / 512 * 512)

            switch type {
            case 0x4C:  // 'L': GNU long name for the next entry
                longName = Array(field(UnsafeBufferPointer(rebasing: bytes[data]), 0, size))
                continue
            case 0x78:  // 'x': pax extended header for the next entry
                paxPath = paxRecord(UnsafeBufferPointer(rebasing: bytes[data]), key: "path")
                continue
            case 0x67:  // 'g': pax global header: nothing labctl needs
                continue
            default:
                break
            }
            longName = nil
            paxPath = nil
            let pathStart = paths.count
            try appendDevicePath(name, to: &paths, entry: name)
            let path = pathStart..<paths.count
            switch type {
            case _ where isFile:
                total += size
                guard total <= limits.totalBytes else { throw .archiveTooLarge(limit: limits.totalBytes) }
                entries.append(FileTable.Entry(path: path, contents: data))
                linkTargets?[Array(paths[path])] = entries.count - 1
            case 0x35:  // '5': directories are implied
                paths.removeSubrange(path)
            case 0x31:  // '1': a hard link to an earlier file
                try appendDevicePath(field(header, 157, 100), to: &paths, allowEmpty: false, entry: name)
                let target = Array(paths[path.upperBound...])
                paths.removeSubrange(path.upperBound...)
                if linkTargets == nil {
                    var index: [[UInt8]: Int] = [:]
                    for (i, entry) in entries.enumerated() { index[Array(paths[entry.path])] = i }
                    linkTargets = index
                }
                guard let linked = linkTargets?[target].map({ entries[$0] }) else {
                    throw .hardlinkTarget(entry: text(name), target: text(target))
                }
                total += linked.contents.count
                guard total <= limits.totalBytes else { throw .archiveTooLarge(limit: limits.totalBytes) }
                entries.append(FileTable.Entry(path: path, contents: linked.contents))
                linkTargets?[Array(paths[path])] = entries.count - 1
            case 0x32:  // '2': symlinks are never followed
                let target = field(header, 157, 100)
                guard symlinkStaysInside(entry: paths[path], target: target) else {
                    throw .symlinkOutside(entry: text(name), target: text(Array(target)))
                }
                paths.removeSubrange(path)
            default:
                throw .unsupportedEntry(entry: text(name), type: Character(Unicode.Scalar(type)))
            }
        }
    }

    /// Appends `raw` as a device path: `./proc/cpuinfo` and `proc/cpuinfo` become `/proc/cpuinfo`.
    /// An absolute path or a `..` component is an error naming `entry`.
    private static func appendDevicePath(_ raw: UnsafeBufferPointer<UInt8>, to paths: inout [UInt8], allowEmpty: Bool = true,
                                         entry: [UInt8]) throws(DumpError) {
        if raw.first == 0x2F { throw .absolutePath(text(entry)) }  // '/'
        if isPlainRelative(raw) {  // the usual `proc/cpuinfo`: one append, not one per component
            paths.append(0x2F)
            paths.append(contentsOf: raw)
            return
        }
        let start = paths.count
        var traversal = false
        forEachComponent(raw) { part in  // empty components are skipped, and so is "."
            if part.elementsEqual([0x2E, 0x2E]) { traversal = true }
            if traversal || part.elementsEqual([0x2E]) { return }
            paths.append(0x2F)
            paths.append(contentsOf: part)
        }
        if traversal {
            paths.removeSubrange(start...)
            throw .pathTraversal(text(entry))
        }
        if paths.count == start {
            if !allowEmpty { throw .pathTraversal(text(entry)) }
            paths.append(0x2F)
        }
    }

    /// True if `raw` is non-empty and each of its components is a name: none is empty, `.` or `..`.
    static func isPlainRelative(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        for i in 0...raw.count where i == raw.count || raw[i] == 0x2F {
            let length = i - start
            if length == 0 || (length <= 2 && raw[start] == 0x2E && (length == 1 || raw[start + 1] == 0x2E)) { return false }
            start = i + 1
        }
        return true
    }

    private static func appendDevicePath(_ raw: [UInt8], to paths: inout [UInt8], entry: [UInt8]) throws(DumpError) {
        try raw.withUnsafeBufferPointer { raw throws(DumpError) in try appendDevicePath(raw, to: &paths, entry: entry) }
    }

    /// Calls `body` with each non-empty component of a slash-separated path.
    private static func forEachComponent<C: Collection<UInt8>>(_ path: C, _ body: (C.SubSequence) -> Void) {
        var start = path.startIndex
        while start != path.endIndex {
            let end = path[start...].firstIndex(of: 0x2F) ?? path.endIndex
            if start != end { body(path[start..<end]) }
            start = end == path.endIndex ? end : path.index(after: end)
        }
    }

    static func symlinkStaysInside(entry: ArraySlice<UInt8>, target: UnsafeBufferPointer<UInt8>) -> Bool {
        if target.first == 0x2F || target.isEmpty { return false }
        var depth = -1  // the directory holding the link
        forEachComponent(entry) { _ in depth += 1 }
        var inside = true
        forEachComponent(target) { part in
            if part.elementsEqual([0x2E]) { return }
            if part.elementsEqual([0x2E, 0x2E]) { depth -= 1; if depth < 0 { inside = false } } else if inside { depth += 1 }
        }
        return inside
    }

    private static func isZeroBlock(_ block: UnsafeBufferPointer<UInt8>) -> Bool {
        let raw = UnsafeRawBufferPointer(block)
        var any: UInt64 = 0
        for offset in stride(from: 0, to: 512, by: 8) { any |= raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        return any == 0
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func checksumMatches(_ header: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let stored = octal(header, 148, 8) else { return false }
        // Eight bytes at a time: add byte pairs into four 16-bit lanes, which hold the pairs of all
        // 64 words (at most 64 * 2 * 255 each), then add the lanes.
        let raw = UnsafeRawBufferPointer(header)
        var lanes: UInt64 = 0
        for offset in stride(from: 0, to: 512, by: 8) {
            let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            lanes &+= (word & 0x00FF_00FF_00FF_00FF) &+ (word >> 8 & 0x00FF_00FF_00FF_00FF)
        }
        let folded = (lanes & 0xFFFF_0000_FFFF) &+ (lanes >> 16 & 0xFFFF_0000_FFFF)
        var sum = Int(truncatingIfNeeded: (folded &+ (folded >> 32)) & 0xFFFF_FFFF)
        // The checksum field itself counts as eight spaces.
        for i in 148..<156 { sum &-= Int(header[i]) }
        sum &+= 8 * 0x20
        return sum == stored
    }

    /// An octal numeric field, or GNU's base-256 form for large values.
    static func octal(_ header: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> Int? {
        if header[start] & 0x80 != 0 {
            var value = Int(header[start] & 0x3F)
            for i in start + 1..<start + length {
                guard value < Int.max >> 8 else { return nil }
                value = value << 8 | Int(header[i])
            }
            return value
        }
        // Leading spaces, octal digits, then the end of the field, a NUL or a space. Twelve
        // digits at most (the size field), so the value cannot overflow.
        precondition(length <= 12 && start + length <= header.count)
        let field = header.baseAddress! + start
        var i = 0
        while i < length && field[i] == 0x20 { i += 1 }
        var value = 0
        while i < length {
            let digit = field[i] &- 0x30
            if digit > 7 { break }
            value = value << 3 | Int(digit)
            i += 1
        }
        return i == length || field[i] == 0 || field[i] == 0x20 ? value : nil
    }

    /// A NUL-terminated field's bytes.
    static func field(_ block: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> UnsafeBufferPointer<UInt8> {
        let bytes = UnsafeBufferPointer(rebasing: block[start..<start + length])
        return UnsafeBufferPointer(rebasing: bytes[..<(bytes.firstIndex(of: 0) ?? bytes.endIndex)])
    }

    /// A value from pax records of the form `LEN key=value\n`; the last one for `key` wins.
    static func paxRecord(_ data: UnsafeBufferPointer<UInt8>, key: StaticString) -> [UInt8]? {
        let key = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        var i = 0
        var result: [UInt8]?
        while i < data.count {
            var length = 0
            var j = i
            while j < data.count, data[j] >= 0x30, data[j] <= 0x39, length < 1 << 20 {
                length = length * 10 + Int(data[j] - 0x30)
                j += 1
            }
            guard j < data.count, data[j] == 0x20, length > j - i, i + length <= data.count else { return result }
            let record = UnsafeBufferPointer(rebasing: data[(j + 1)..<(i + length)])
            if let eq = record.firstIndex(of: 0x3D), record[..<eq].elementsEqual(key) {  // '='
                var value = Array(record[(eq + 1)...])
                if value.last == 0x0A { value.removeLast() }
                result = value
            }
            i += length
        }
        return result
    }
}

/// Writes a ustar archive of regular files, for `labctl device capture`.
public struct TarWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    let modificationTime: Int

    /// - Parameter modificationTime: seconds since the epoch stamped on every entry (injected, for reproducible dumps).
    public init(modificationTime: Int) {
        self.modificationTime = modificationTime
    }

    /// Adds a file at its device path (`/proc/cpuinfo` is stored as `proc/cpuinfo`).
    public mutating func add(path: String, contents: [UInt8], mode: Int = 0o644) {
        var name = Array(path.drop(while: { $0 == "/" }).utf8)
        var prefix: [UInt8] = []
        if name.count > 100 {
            // Split at a slash so that the prefix fits 155 bytes and the name 100.
            if let cut = name.indices.last(where: { name[$0] == 0x2F && $0 <= 155 && name.count - $0 - 1 <= 100 }) {
                prefix = Array(name[..<cut])
                name = Array(name[(cut + 1)...])
            } else {
                addPaxPath(String(decoding: name, as: UTF8.self))
                name = Array(name.suffix(99))
            }
        }
        appendHeader(name: name, prefix: prefix, size: contents.count, mode: mode, type: 0x30)
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    /// The finished archive, ending in two zero blocks.
    public func finished() -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: 1024)
    }

    private mutating func addPaxPath(_ path: String) {
        let body = " path=\(path)\n"
        var length = body.utf8.count + 1
        while String(length).utf8.count + body.utf8.count != length { length = String(length).utf8.count + body.utf8.count }
        let record = Array((String(length) + body).utf8)
        appendHeader(name: Array("PaxHeader".utf8), prefix: [], size: record.count, mode: 0o644, type: 0x78)
        bytes += record
        bytes += [UInt8](repeating: 0, count: (512 - record.count % 512) % 512)
    }

    private mutating func appendHeader(name: [UInt8], prefix: [UInt8], size: Int, mode: Int, type: UInt8) {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ field: [UInt8], at start: Int) { for (i, b) in field.enumerated() { h[start + i] = b } }
        func putOctal(_ value: Int, at start: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8), at: start)
        }
        put(Array(name.prefix(100)), at: 0)
        putOctal(mode, at: 100, width: 8)
        putOctal(0, at: 108, width: 8)
        putOctal(0, at: 116, width: 8)
        putOctal(size, at: 124, width: 12)
        putOctal(modificationTime, at: 136, width: 12)
        h[156] = type
        put(Array("ustar\u{0}00".utf8), at: 257)
        put(Array("root".utf8), at: 265)
        put(Array("root".utf8), at: 297)
        put(Array(prefix.prefix(155)), at: 345)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: 6 - digits.count) + digits).utf8) + [0, 0x20], at: 148)
        bytes += h
    }
}

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
        try bytes.withUnsafeBufferPointer { buffer throws(DumpError) in try read(buffer, limits: limits) }
    }

    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, limits: DumpLimits) throws(DumpError) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        var offset = 0
        var total = 0
        var entries = 0
        var longName: String?
        var paxPath: String?
        while true {
            guard offset + 512 <= bytes.count else {
                // Some writers stop without the two zero blocks; a clean end on a block boundary is fine.
                if offset == bytes.count { break }
                throw .truncated(entry: nil)
            }
            let header = UnsafeBufferPointer(rebasing: bytes[offset..<offset + 512])
            if header.allSatisfy({ $0 == 0 }) { break }
            entries += 1
            if entries > limits.entries { throw .tooManyEntries(limit: limits.entries) }
            guard checksumMatches(header) else { throw .badHeader(offset: offset, reason: "checksum mismatch") }
            guard let size = octal(header, 124, 12) else { throw .badHeader(offset: offset, reason: "invalid size field") }
            let type = Character(Unicode.Scalar(header[156]))
            var name = string(header, 0, 100)
            if header[257..<262].elementsEqual("ustar".utf8) {
                let prefix = string(header, 345, 155)
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            let dataStart = offset + 512
            let isMeta = type == "L" || type == "x" || type == "g"
            let fullName = isMeta ? name : (longName ?? paxPath ?? name)
            if isMeta {
                guard size <= 65536 else { throw .badHeader(offset: offset, reason: "metadata entry of \(size) bytes") }
            } else if type == "0" || type == "\0" || type == "7", size > limits.fileBytes {
                _ = try devicePath(fullName)
                throw .entryTooLarge(entry: fullName, size: size, limit: limits.fileBytes)
            }
            guard dataStart + size <= bytes.count else { throw .truncated(entry: fullName) }
            let data = UnsafeBufferPointer(rebasing: bytes[dataStart..<dataStart + size])
            offset = min(bytes.count, dataStart + (size + 511) / 512 * 512)

            switch type {
            case "L":  // GNU long name for the next entry
                longName = cString(data)
                continue
            case "x":  // pax extended header for the next entry
                paxPath = paxRecord(data, key: "path")
                continue
            case "g":  // pax global header: nothing labctl needs
                continue
            default:
                break
            }
            longName = nil
            paxPath = nil
            let path = try devicePath(fullName)
            switch type {
            case "0", "\0", "7":
                total += size
                guard total <= limits.totalBytes else { throw .archiveTooLarge(limit: limits.totalBytes) }
                files[path] = Array(data)
            case "5":
                continue
            case "1":
                let target = try devicePath(string(header, 157, 100), allowEmpty: false, link: fullName)
                guard let linked = files[target] else { throw .hardlinkTarget(entry: fullName, target: target) }
                total += linked.count
                guard total <= limits.totalBytes else { throw .archiveTooLarge(limit: limits.totalBytes) }
                files[path] = linked
            case "2":
                let target = string(header, 157, 100)
                guard symlinkStaysInside(entry: path, target: target) else {
                    throw .symlinkOutside(entry: fullName, target: target)
                }
                continue  // never followed
            default:
                throw .unsupportedEntry(entry: fullName, type: type)
            }
        }
        return files
    }

    /// `./proc/cpuinfo` and `proc/cpuinfo` both become `/proc/cpuinfo`.
    static func devicePath(_ raw: String, allowEmpty: Bool = true, link: String? = nil) throws(DumpError) -> String {
        if raw.utf8.first == 0x2F { throw .absolutePath(link ?? raw) }
        var text = raw  // withUTF8 needs a mutable String
        let path = text.withUTF8 { bytes -> [UInt8]? in
            var path: [UInt8] = []
            path.reserveCapacity(bytes.count + 1)
            var start = 0
            while start <= bytes.count {
                let end = bytes[start...].firstIndex(of: 0x2F) ?? bytes.count  // '/'
                let length = end - start
                let isDot = length >= 1 && length <= 2 && bytes[start] == 0x2E && bytes[end - 1] == 0x2E
                if length == 2 && isDot { return nil }
                if length > 0 && !(length == 1 && isDot) {
                    path.append(0x2F)
                    path.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
                }
                start = end + 1
            }
            return path
        }
        guard let path else { throw .pathTraversal(link ?? raw) }
        if path.isEmpty && !allowEmpty { throw .pathTraversal(link ?? raw) }
        return path.isEmpty ? "/" : String(decoding: path, as: UTF8.self)
    }

    static func symlinkStaysInside(entry: String, target: String) -> Bool {
        if target.utf8.first == 0x2F || target.isEmpty { return false }
        var depth = entry.utf8.split(separator: 0x2F).count - 1  // the directory holding the link
        for part in target.utf8.split(separator: 0x2F) {
            if part.elementsEqual(".".utf8) { continue }
            if part.elementsEqual("..".utf8) { depth -= 1; if depth < 0 { return false } } else { depth += 1 }
        }
        return true
    }

    static func checksumMatches(_ header: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let stored = octal(header, 148, 8) else { return false }
        // Eight bytes at a time: add byte pairs into 16-bit lanes, then the four lanes by a multiply.
        let raw = UnsafeRawBufferPointer(header)
        var sum = 0
        for offset in stride(from: 0, to: 512, by: 8) {
            let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let lanes = (word & 0x00FF_00FF_00FF_00FF) &+ (word >> 8 & 0x00FF_00FF_00FF_00FF)
            sum &+= Int(truncatingIfNeeded: (lanes &* 0x0001_0001_0001_0001) >> 48)
        }
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
        var value = 0
        var seenDigit = false
        for i in start..<start + length {
            let c = header[i]
            if c == 0 || (c == 0x20 && seenDigit) { break }
            if c == 0x20 { continue }
            guard c >= 0x30 && c <= 0x37, value < Int.max >> 3 else { return nil }
            value = value << 3 | Int(c - 0x30)
            seenDigit = true
        }
        return value
    }

    static func string(_ header: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> String {
        cString(UnsafeBufferPointer(rebasing: header[start..<start + length]))
    }

    static func cString(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
    }

    /// A value from pax records of the form `LEN key=value\n`.
    static func paxRecord(_ data: UnsafeBufferPointer<UInt8>, key: String) -> String? {
        var i = 0
        var result: String?
        while i < data.count {
            var length = 0
            var j = i
            while j < data.count, data[j] >= 0x30, data[j] <= 0x39, length < 1 << 20 {
                length = length * 10 + Int(data[j] - 0x30)
                j += 1
            }
            guard j < data.count, data[j] == 0x20, length > j - i, i + length <= data.count else { return result }
            let record = UnsafeBufferPointer(rebasing: data[(j + 1)..<(i + length)])
            if let eq = record.firstIndex(of: 0x3D) {
                let k = String(decoding: UnsafeBufferPointer(rebasing: record[..<eq]), as: UTF8.self)
                if k == key {
                    var v = String(decoding: UnsafeBufferPointer(rebasing: record[(eq + 1)...]), as: UTF8.self)
                    if v.hasSuffix("\n") { v.removeLast() }
                    result = v
                }
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Files as one table over shared bytes, sorted by path. A dump's tar is read in place: no String,
/// copy or hash per entry (those took a quarter of a report's instructions), and the files below
/// one directory form one contiguous run that a binary search finds.
struct FileTable: Sendable {
    struct Entry: Sendable {
        /// The path's bytes in `paths`: absolute, as on the device.
        var path: Range<Int>
        /// The file's bytes in `storage`.
        var contents: Range<Int>
    }

    private let storage: [UInt8]
    private let paths: [UInt8]
    /// In byte order of their paths, one per path.
    private let entries: [Entry]

    var isEmpty: Bool { entries.isEmpty }

    /// - Parameter unsorted: the files in any order; of two with the same path, the later one stays.
    init(storage: [UInt8], paths: [UInt8], unsorted: [Entry]) {
        self.storage = storage
        self.paths = paths
        entries = paths.withUnsafeBufferPointer { p in
            // A dump that labctl captured is in path order already: one pass instead of a sort.
            if unsorted.indices.dropFirst().allSatisfy({ Self.compare(p, unsorted[$0 - 1].path, unsorted[$0].path) < 0 }) {
                return unsorted
            }
            var order = Array(unsorted.indices)
            order.sort { a, b in
                let c = Self.compare(p, unsorted[a].path, unsorted[b].path)
                return c != 0 ? c < 0 : a < b
            }
            var kept: [Entry] = []
            kept.reserveCapacity(order.count)
            for (k, i) in order.enumerated()
            where k + 1 == order.count || Self.compare(p, unsorted[i].path, unsorted[order[k + 1]].path) != 0 {
                kept.append(unsorted[i])
            }
            return kept
        }
    }

    /// The files of a dictionary, their bytes copied into one buffer.
    init(files: [String: [UInt8]]) {
        var storage: [UInt8] = []
        var paths: [UInt8] = []
        var entries: [Entry] = []
        storage.reserveCapacity(files.values.reduce(0) { $0 + $1.count })
        entries.reserveCapacity(files.count)
        for (path, contents) in files {
            let pathStart = paths.count, contentsStart = storage.count
            paths.append(contentsOf: path.utf8)
            storage.append(contentsOf: contents)
            entries.append(Entry(path: pathStart..<paths.count, contents: contentsStart..<storage.count))
        }
        self.init(storage: storage, paths: paths, unsorted: entries)
    }

    /// The bytes of the file at `path`, or nil.
    func contents(of path: String) -> [UInt8]? {
        withContents(of: path) { Array($0) }
    }

    /// `body` with the bytes of the file at `path` where they lie, or nil if there is none.
    func withContents<R>(of path: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        var path = path  // withUTF8 needs it mutable; a native string is not copied
        return path.withUTF8 { key in
            paths.withUnsafeBufferPointer { p in
                let i = lowerBound(key, in: p)
                guard i < entries.count, Self.compare(Self.bytes(p, entries[i].path), key) == 0 else { return nil }
                return storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[entries[i].contents])) }
            }
        }
    }

    /// The names directly below `directory`, sorted by their bytes; empty for a file or a missing directory.
    func list(_ directory: String) -> [String] {
        var prefix = Array(directory.utf8)
        while prefix.count > 1 && prefix.last == 0x2F { prefix.removeLast() }  // '/'
        if prefix != [0x2F] { prefix.append(0x2F) }
        return prefix.withUnsafeBufferPointer { prefix in
            paths.withUnsafeBufferPointer { p in
                var names: [Range<Int>] = []  // in `paths`
                var i = lowerBound(prefix, in: p)
                var below: [UInt8] = []  // "<prefix><name>0": the first path after the subtree "<prefix><name>/"
                while i < entries.count {
                    let path = entries[i].path
                    guard path.count >= prefix.count, memcmp(p.baseAddress! + path.lowerBound, prefix.baseAddress!, prefix.count) == 0
                    else { break }  // the paths below a directory are one run in byte order
                    let start = path.lowerBound + prefix.count
                    guard let slash = p[start..<path.upperBound].firstIndex(of: 0x2F) else {
                        if start < path.upperBound { names.append(start..<path.upperBound) }
                        i += 1
                        continue
                    }
                    let name = start..<slash
                    if !name.isEmpty, names.last.map({ Self.compare(p, $0, name) != 0 }) ?? true { names.append(name) }
                    // Skip the rest of the subdirectory by a binary search, not entry by entry.
                    below.removeAll(keepingCapacity: true)
                    below.append(contentsOf: UnsafeBufferPointer(rebasing: p[path.lowerBound..<slash]))
                    below.append(0x30)  // '0', the byte after '/'
                    i = max(i + 1, below.withUnsafeBufferPointer { lowerBound($0, in: p) })
                }
                // "a" can come on both sides of "a-b": "/d/a" < "/d/a-b" < "/d/a/c".
                names.sort { Self.compare(p, $0, $1) < 0 }
                var result: [String] = []
                result.reserveCapacity(names.count)
                for (k, name) in names.enumerated() where k == 0 || Self.compare(p, names[k - 1], name) != 0 {
                    result.append(String(decoding: Self.bytes(p, name), as: UTF8.self))
                }
                return result
            }
        }
    }

    /// Every file, keyed by its path.
    var dictionary: [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        files.reserveCapacity(entries.count)
        for entry in entries {
            files[String(decoding: paths[entry.path], as: UTF8.self)] = Array(storage[entry.contents])
        }
        return files
    }

    /// The first entry whose path is not below `key` in byte order.
    private func lowerBound(_ key: UnsafeBufferPointer<UInt8>, in p: UnsafeBufferPointer<UInt8>) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if Self.compare(Self.bytes(p, entries[middle].path), key) < 0 { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func bytes(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: p[range])
    }

    private static func compare(_ p: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Int {
        compare(bytes(p, a), bytes(p, b))
    }

    /// memcmp's order, a shorter prefix first.
    static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(x.count, y.count)
        let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
        return order != 0 ? Int(order) : x.count - y.count
    }
}

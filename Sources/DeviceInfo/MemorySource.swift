#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Files held in memory: an unpacked dump, or an example shipped with the package.
public struct MemorySource: DeviceSource {
    public let label: String
    public let files: [String: [UInt8]]
    public var isLive: Bool { false }
    /// Every path in byte order: the paths below one directory are then one contiguous run, so
    /// `list` finds them by binary search instead of indexing every directory up front.
    private let sortedPaths: [String]

    public init(label: String, files: [String: [UInt8]]) {
        self.label = label
        self.files = files
        // String's < is memcmp for ASCII text, which every real dump is. For other text it compares
        // normalized Unicode, so such paths are sorted by their bytes, which is slower.
        let paths = Array(files.keys)
        sortedPaths = paths.allSatisfy(Self.isASCII)
            ? paths.sorted()
            : paths.sorted { Self.compareUTF8($0, $1) < 0 }
    }

    public init(label: String, textFiles: [String: String]) {
        self.init(label: label, files: textFiles.mapValues { Array($0.utf8) })
    }

    public func read(_ path: String) -> Result<[UInt8], ReadFailure> {
        files[path].map { .success($0) } ?? .failure(.missing)
    }

    public func list(_ path: String) -> [String] {
        var prefix = path
        while prefix.utf8.count > 1 && prefix.utf8.last == 0x2F { prefix.removeLast() }  // '/'
        if prefix != "/" { prefix += "/" }
        var low = 0
        var high = sortedPaths.count
        while low < high {
            let middle = (low + high) / 2
            if Self.compareUTF8(sortedPaths[middle], prefix) < 0 { low = middle + 1 } else { high = middle }
        }
        var names: [String] = []
        prefix.withUTF8 { prefix in
            for var path in sortedPaths[low...] {
                let name: String? = path.withUTF8 { bytes in
                    guard bytes.count >= prefix.count, memcmp(bytes.baseAddress!, prefix.baseAddress!, prefix.count) == 0 else {
                        return nil
                    }
                    let rest = bytes[prefix.count...]
                    let end = rest.firstIndex(of: 0x2F) ?? rest.endIndex
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[prefix.count..<end]), as: UTF8.self)
                }
                guard let name else { break }
                if !name.isEmpty && names.last != name { names.append(name) }
            }
        }
        // "a" can come on both sides of "a-b": "/d/a" < "/d/a-b" < "/d/a/c".
        names.sort()
        return names.enumerated().compactMap { i, name in i > 0 && names[i - 1] == name ? nil : name }
    }

    /// Checked on the contiguous bytes: iterating a String's UTF-8 view costs about 30 instructions a byte.
    private static func isASCII(_ text: String) -> Bool {
        var text = text  // withUTF8 needs it mutable; a native string is not copied
        return text.withUTF8 { $0.allSatisfy { $0 < 0x80 } }
    }

    /// Compares the UTF-8 bytes of `a` and `b` as memcmp does. Generic `lexicographicallyPrecedes`
    /// over the UTF-8 views costs ten times more.
    private static func compareUTF8(_ a: String, _ b: String) -> Int {
        var a = a, b = b  // withUTF8 needs them mutable; native strings are not copied
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? Int(order) : x.count - y.count
            }
        }
    }
}

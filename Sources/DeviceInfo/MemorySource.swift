/// Files held in memory: an unpacked dump, or an example shipped with the package.
public struct MemorySource: DeviceSource {
    public let label: String
    public let files: [String: [UInt8]]
    public var isLive: Bool { false }
    /// Each directory's entry names, sorted, built once so that `list` does not scan every file.
    private let directories: [String: [String]]

    public init(label: String, files: [String: [UInt8]]) {
        self.label = label
        self.files = files
        var directories: [String: Set<String>] = [:]
        for path in files.keys {
            var child = Substring(path)
            while let slash = child.lastIndex(of: "/") {
                let parent = slash == child.startIndex ? "/" : String(child[..<slash])
                let (inserted, _) = directories[parent, default: []].insert(String(child[child.index(after: slash)...]))
                if !inserted { break }
                child = child[..<slash]
                if child.isEmpty { break }
            }
        }
        self.directories = directories.mapValues { $0.sorted() }
    }

    public init(label: String, textFiles: [String: String]) {
        self.init(label: label, files: textFiles.mapValues { Array($0.utf8) })
    }

    public func read(_ path: String) -> Result<[UInt8], ReadFailure> {
        files[path].map { .success($0) } ?? .failure(.missing)
    }

    public func list(_ path: String) -> [String] {
        var key = path
        while key.count > 1 && key.hasSuffix("/") { key.removeLast() }
        return directories[key] ?? []
    }
}

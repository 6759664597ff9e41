/// Files held in memory: an unpacked dump, or an example shipped with the package.
public struct MemorySource: DeviceSource {
    public let label: String
    public let files: [String: [UInt8]]
    public var isLive: Bool { false }

    public init(label: String, files: [String: [UInt8]]) {
        self.label = label
        self.files = files
    }

    public init(label: String, textFiles: [String: String]) {
        self.init(label: label, files: textFiles.mapValues { Array($0.utf8) })
    }

    public func read(_ path: String) -> Result<[UInt8], ReadFailure> {
        files[path].map { .success($0) } ?? .failure(.missing)
    }

    public func list(_ path: String) -> [String] {
        let prefix = path.hasSuffix("/") ? path : path + "/"
        var names = Set<String>()
        for key in files.keys where key.hasPrefix(prefix) {
            if let name = key.dropFirst(prefix.count).split(separator: "/").first { names.insert(String(name)) }
        }
        return names.sorted()
    }
}

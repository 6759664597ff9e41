/// Files held in memory: an unpacked dump, or an example shipped with the package. Paths are
/// compared by their bytes, as the kernel compares them.
public struct MemorySource: DeviceSource {
    public let label: String
    private let table: FileTable
    public var isLive: Bool { false }

    /// Every file, keyed by its path (built on each call).
    public var files: [String: [UInt8]] { table.dictionary }

    public init(label: String, files: [String: [UInt8]]) {
        self.init(label: label, table: FileTable(files: files))
    }

    public init(label: String, textFiles: [String: String]) {
        self.init(label: label, files: textFiles.mapValues { Array($0.utf8) })
    }

    init(label: String, table: FileTable) {
        self.label = label
        self.table = table
    }

    public func read(_ path: String) -> Result<[UInt8], ReadFailure> {
        table.contents(of: path).map { .success($0) } ?? .failure(.missing)
    }

    public func list(_ path: String) -> [String] { table.list(path) }

    /// The text straight from the table's bytes, without the copy that `read` returns.
    public func text(_ path: String) -> Result<String, ReadFailure> {
        table.withContents(of: path) { fileText($0, path: path) } ?? .failure(.missing)
    }
}

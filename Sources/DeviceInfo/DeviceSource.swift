#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Why a file could not be read from a source.
public enum ReadFailure: Error, Sendable, Hashable, CustomStringConvertible {
    case missing
    case tooLarge(limit: Int)
    case unreadable(Errno)
    case notText

    public var description: String {
        switch self {
        case .missing: "missing"
        case .tooLarge(let limit): "larger than \(limit) bytes"
        case .unreadable(let errno): "unreadable: \(errno)"
        case .notText: "not text"
        }
    }
}

/// Where device facts come from: the live root, a directory, or a captured dump.
public protocol DeviceSource: Sendable {
    /// A short description, e.g. `live /` or `dump m5.tar.gz`.
    var label: String { get }
    /// The bytes of the file at `path` (absolute, as on the device).
    func read(_ path: String) -> Result<[UInt8], ReadFailure>
    /// The names in the directory at `path`, sorted; empty if it does not exist.
    func list(_ path: String) -> [String]
    /// The file as text, trailing newlines removed; a file with a NUL byte is not text (except
    /// device-tree properties, whose strings are NUL-separated). The default reads the bytes.
    func text(_ path: String) -> Result<String, ReadFailure>
    /// Whether this is the running system (so live-only calls like uname(2) apply).
    var isLive: Bool { get }
}

extension DeviceSource {
    public func text(_ path: String) -> Result<String, ReadFailure> {
        read(path).flatMap { bytes in bytes.withUnsafeBufferPointer { fileText($0, path: path) } }
    }
}

/// What ``DeviceSource/text(_:)`` makes of a file's bytes.
func fileText(_ bytes: UnsafeBufferPointer<UInt8>, path: String) -> Result<String, ReadFailure> {
    if bytes.contains(0) && !path.hasPrefix("/proc/device-tree") && !path.containsUTF8("/firmware/devicetree") {
        return .failure(.notText)
    }
    var end = bytes.count
    while end > 0 && bytes[end - 1] == 0x0A { end -= 1 }  // '\n'
    return .success(String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self))
}

/// Reads files below a directory, `/` for the live system.
public struct DirectorySource: DeviceSource {
    public let root: String
    public let isLive: Bool
    /// Largest file read, in bytes.
    public let sizeLimit: Int

    public init(root: String = "/", sizeLimit: Int = 4 << 20) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        self.isLive = r == "/"
        self.sizeLimit = sizeLimit
    }

    public var label: String { isLive ? "live /" : "directory \(root)" }

    /// Reads through openat2(RESOLVE_IN_ROOT), so no path or symlink in the tree reaches outside it.
    public func read(_ path: String) -> Result<[UInt8], ReadFailure> {
        let fd: FileDescriptor
        switch ConfinedPath.open(path, in: root, flags: O_RDONLY) {
        case .success(let opened): fd = opened
        case .failure(let errno):
            return .failure(errno == .noSuchFileOrDirectory || errno == .notDirectory ? .missing : .unreadable(errno))
        }
        defer { try? fd.close() }
        switch ConfinedPath.readAll(fd, limit: sizeLimit) {
        case .success(let bytes): return .success(bytes)
        case .failure(.tooLarge): return .failure(.tooLarge(limit: sizeLimit))
        case .failure(.unreadable(let errno)): return .failure(.unreadable(errno))
        }
    }

    public func list(_ path: String) -> [String] {
        ConfinedPath.names(in: path, root: root)
    }
}

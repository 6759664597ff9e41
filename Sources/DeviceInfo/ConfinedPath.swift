#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinuxShims
import SystemPackage

/// Opening and listing below a root without escaping it.
enum ConfinedPath {
    /// Opens `path` as if `root` were `/`: `..` and symlinks (absolute ones too) resolve inside `root`.
    /// The live root `/` opens directly.
    static func open(_ path: String, in root: String, flags: Int32) -> Result<FileDescriptor, Errno> {
        if root == "/" {
            let fd = Glibc.open(path, flags | O_CLOEXEC)
            return fd >= 0 ? .success(FileDescriptor(rawValue: fd)) : .failure(Errno(rawValue: errno))
        }
        let rootFD = Glibc.open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return .failure(Errno(rawValue: errno)) }
        defer { close(rootFD) }
        let fd = labctl_open_in_root(rootFD, path, flags)
        return fd >= 0 ? .success(FileDescriptor(rawValue: fd)) : .failure(Errno(rawValue: errno))
    }

    enum ReadAllFailure: Error {
        case tooLarge
        case unreadable(Errno)
    }

    /// Everything `fd` holds, refusing more than `limit` bytes.
    static func readAll(_ fd: FileDescriptor, limit: Int) -> Result<[UInt8], ReadAllFailure> {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
            } catch let errno as Errno {
                return .failure(.unreadable(errno))
            } catch {
                return .failure(.unreadable(.ioError))
            }
            if n == 0 { return .success(out) }
            out += chunk[0..<n]
            if out.count > limit { return .failure(.tooLarge) }
        }
    }

    /// The names in a directory, sorted, without `.` and `..`; empty when it cannot be opened.
    static func names(in path: String, root: String) -> [String] {
        guard case .success(let fd) = open(path, in: root, flags: O_RDONLY | O_DIRECTORY),
              let dir = fdopendir(fd.rawValue) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

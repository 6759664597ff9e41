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
        // Each read lands in a fresh array's uninitialized storage, sized from fstat: a regular
        // file then takes one read and no copy. /proc reports 0 and sysfs 4096, so at least a page.
        var info = stat()
        let size = fstat(fd.rawValue, &info) == 0 ? Int(info.st_size) : 0
        var chunkSize = min(max(size + 1, 4096), 1 << 20, limit + 1)
        var out: [UInt8] = []
        while true {
            var failure: Errno?
            let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { buffer, count in
                do {
                    count = try fd.read(into: UnsafeMutableRawBufferPointer(buffer), retryOnInterrupt: true)
                } catch {
                    failure = error as? Errno ?? .ioError
                    count = 0
                }
            }
            if let failure { return .failure(.unreadable(failure)) }
            if chunk.isEmpty { return .success(out) }
            if out.isEmpty { out = chunk } else { out += chunk }
            if out.count > limit { return .failure(.tooLarge) }
            // A regular file that gave exactly its size is whole: no read for the end of file.
            // procfs reports a size of 0 and sysfs 4096, so theirs still read to the end.
            if size > 0 && out.count == size && (info.st_mode & S_IFMT) == S_IFREG { return .success(out) }
            chunkSize = min(max(chunkSize, 1 << 16), limit + 1 - out.count)
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

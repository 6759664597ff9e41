#if canImport(Glibc)
import Glibc
#endif

/// Writes files that must not be world-readable (private keys, dumps with serial numbers).
///
/// The data goes to a new `0600` file beside the target, which is then renamed over it, so a
/// reader never sees a partial file and an existing file's looser mode is not inherited.
enum SecretFile {
    /// `permissions` can open the file up where nothing in it is secret (a boot image).
    static func write(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o600) throws {
        let temporary = path + ".labctl-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw LabError("\(path): \(String(cString: strerror(errno)))") }
        var failure = bytes.withUnsafeBytes { writeFully(fd, $0) }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw LabError("\(path): \(String(cString: strerror(failure)))")
        }
    }
}

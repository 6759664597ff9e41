#if canImport(Glibc)
import Glibc
#endif

/// The Unix socket through which a running speaker reports its status, as JSON.
public enum VRRPControlSocket {
    /// The address of `path`, or nil when the path is too long for `sun_path`.
    static func address(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
        return address
    }

    /// A listening socket at `path` (mode 0600), replacing a stale one.
    static func listen(_ path: String) throws -> Int32 {
        guard let address = address(path) else { throw VRRPSystemError("control socket \(path)", .fileNameTooLong) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw VRRPSystemError.last("socket(AF_UNIX)") }
        unlink(path)
        let oldMask = umask(0o077)
        defer { umask(oldMask) }
        guard bindAddress(fd, address), Glibc.listen(fd, 8) == 0 else {
            let error = VRRPSystemError.last("control socket \(path)")
            close(fd)
            throw error
        }
        return fd
    }

    /// The status JSON of the speaker listening at `path`. The error's operation is the path.
    public static func fetchStatus(_ path: String) throws(VRRPSystemError) -> [UInt8] {
        guard let address = address(path) else { throw VRRPSystemError(path, .fileNameTooLong) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw VRRPSystemError.last("socket(AF_UNIX)") }
        defer { close(fd) }
        let connected = withUnsafeBytes(of: address) { connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
        guard connected == 0 else { throw VRRPSystemError.last(path) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw VRRPSystemError.last(path) }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }
}

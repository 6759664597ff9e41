import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A userspace WireGuard's control socket, `/var/run/wireguard/NAME.sock`.
public enum UserspaceWireGuard {
    public static let socketDirectory = "/var/run/wireguard"

    public static func socketPath(for name: String) -> String { "\(socketDirectory)/\(name).sock" }

    /// The names of devices with a socket.
    public static func deviceNames() -> [String] {
        guard let dir = opendir(socketDirectory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name.hasSuffix(".sock") { names.append(String(name.dropLast(5))) }
        }
        return names.sorted()
    }

    public static func hasSocket(for name: String) -> Bool {
        var info = stat()
        return stat(socketPath(for: name), &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
    }

    public static func device(named name: String) throws(WireGuardError) -> Device {
        try device(named: name, eachPeer: nil)
    }

    /// The device; with `eachPeer`, without its peers, each of which goes there as soon as its
    /// lines are read (a dump of 50,000 peers then keeps none).
    static func device(named name: String, eachPeer: ((Peer) -> Void)?) throws(WireGuardError) -> Device {
        var reader = UAPIProtocol.GetReplyReader(device: name, eachPeer: eachPeer)
        // Parsed as it arrives, while the implementation is still writing the rest.
        try exchange(name, "get=1\n\n") { reader.read($0, scopeIndex: NetworkInterfaces.scopeIndex(ofZone:)) }
        do {
            return try reader.finish(scopeIndex: NetworkInterfaces.scopeIndex(ofZone:)).get()
        } catch {
            throw error.wireGuardError
        }
    }

    public static func apply(_ config: DeviceConfig, to name: String) throws(WireGuardError) {
        var reply: [UInt8] = []
        try exchange(name, writeRequest: { send in
            UAPIProtocol.writeSetRequest(config, scopeName: { NetworkInterfaces.name(ofIndex: $0) }, send: send)
        }) { piece in
            reply += piece
            return reply.count >= 2 && reply[reply.count - 1] == 0x0A && reply[reply.count - 2] == 0x0A
        }
        do {
            try UAPIProtocol.parseSetReply(String(decoding: reply, as: UTF8.self), device: name)
        } catch {
            throw error.wireGuardError
        }
    }

    /// Sends one request and hands each piece of the reply to `read` until it returns true (it
    /// has read the reply's blank line) or the implementation closes the connection.
    static func exchange(_ name: String, _ request: String,
                         read: (UnsafeBufferPointer<UInt8>) -> Bool) throws(WireGuardError) {
        var request = request
        try exchange(name, writeRequest: { send in _ = request.withUTF8 { send(UnsafeRawBufferPointer($0)) } }, read: read)
    }

    /// The same with a request that `writeRequest` hands to its `send` in pieces, each sent as it
    /// comes (`send` returns false once the implementation has stopped reading).
    static func exchange(_ name: String, writeRequest: ((UnsafeRawBufferPointer) -> Bool) -> Void,
                         read: (UnsafeBufferPointer<UInt8>) -> Bool) throws(WireGuardError) {
        let fd = socket(AF_UNIX, SocketType.stream | SocketType.closeOnExec, 0)
        guard fd >= 0 else { throw .system(operation: "socket", errno: Errno(rawValue: errno)) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath(for: name).utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .invalidArgument("interface name too long: \(name)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.enumerated() { raw[i] = b } }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let e = Errno(rawValue: errno)
            if e == .noSuchFileOrDirectory || e == .connectionRefused { throw .noSuchDevice(name) }
            if e == .permissionDenied { throw .permissionDenied(operation: "connect to \(socketPath(for: name))") }
            throw .system(operation: "connect to \(socketPath(for: name))", errno: e)
        }
        var writeError: Errno?
        writeRequest { piece in
            var sent = 0
            while sent < piece.count {
                let n = send(fd, piece.baseAddress! + sent, piece.count - sent, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    // The implementation may have answered errno=N and closed before reading it all.
                    writeError = Errno(rawValue: errno)
                    return false
                }
                sent += n
            }
            return true
        }
        var received = 0
        // Uninitialized: zeroing 64 KiB cost a small reply 16 page faults and more instructions
        // than reading it. recv(2) writes only what it returns.
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
        defer { chunk.deallocate() }
        while true {
            let n = recv(fd, chunk.baseAddress, chunk.count, 0)
            if n < 0 { if errno == EINTR { continue }; throw .system(operation: "read \(name)", errno: Errno(rawValue: errno)) }
            if n == 0 { break }
            received += n
            if read(UnsafeBufferPointer(rebasing: chunk[..<n])) { break }
        }
        if let writeError, received == 0 {
            throw .system(operation: "write \(name)", errno: writeError)
        }
    }
}

extension UAPIError {
    var wireGuardError: WireGuardError {
        switch self {
        case .malformed(let why): .malformedReply(why)
        case .status(let device, let errno): .userspace(device: device, errno: errno)
        }
    }
}

/// socket(2) type flags as numbers: which Clang module owns glibc's `__socket_type` depends on the
/// build order of the C modules, so a file that does not import that module may not see them.
enum SocketType {
    static let stream: Int32 = 1, datagram: Int32 = 2, raw: Int32 = 3
    static let nonBlocking: Int32 = 0o4000, closeOnExec: Int32 = 0o2000000
}

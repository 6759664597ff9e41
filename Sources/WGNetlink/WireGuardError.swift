import SystemPackage

/// What went wrong talking to WireGuard, worded for the person at the terminal.
public enum WireGuardError: Error, Sendable, Hashable, CustomStringConvertible {
    case noSuchDevice(String)
    case notWireGuard(String)
    case permissionDenied(operation: String)
    case moduleNotLoaded
    /// A system call or kernel reply failed.
    case system(operation: String, errno: Errno)
    /// A userspace implementation answered `errno=N` (N positive).
    case userspace(device: String, errno: Int32)
    case malformedReply(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .noSuchDevice(let name): "no such device: \(name)"
        case .notWireGuard(let name): "\(name) is not a WireGuard device"
        case .permissionDenied(let op): "\(op): permission denied (needs CAP_NET_ADMIN)"
        case .moduleNotLoaded: "WireGuard is not available: the wireguard kernel module is not loaded and no userspace implementation is running"
        case .system(let op, let errno): "\(op): \(errno)"
        case .userspace(let device, let errno): "\(device): the userspace implementation refused the request: \(Errno(rawValue: errno))"
        case .malformedReply(let why): "malformed reply: \(why)"
        case .invalidArgument(let why): why
        }
    }

    /// Maps a kernel errno for an operation on `device` to the clearest case.
    static func kernel(_ errno: Errno, device: String, operation: String) -> WireGuardError {
        switch errno {
        case .operationNotSupportedByDevice, .noSuchFileOrDirectory: .noSuchDevice(device)
        case .notSupported: .notWireGuard(device)
        default: failed(errno, operation: "\(operation) \(device)")
        }
    }

    /// A kernel errno for any operation: no permission, or the errno as it is.
    static func failed(_ errno: Errno, operation: String) -> WireGuardError {
        errno == .notPermitted || errno == .permissionDenied ? .permissionDenied(operation: operation) : .system(operation: operation, errno: errno)
    }
}

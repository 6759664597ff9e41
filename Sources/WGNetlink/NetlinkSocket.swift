import CLibMNL
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A netlink message under construction, in a fixed-size buffer, built with libmnl.
/// The `_check` calls return false when the next attribute would not fit.
struct NetlinkMessageBuilder: ~Copyable {
    let capacity: Int
    private let buffer: UnsafeMutableRawPointer
    let header: UnsafeMutablePointer<nlmsghdr>

    init(type: UInt16, flags: Int32, sequence: UInt32, capacity: Int = 16384) {
        self.capacity = capacity
        buffer = .allocate(byteCount: capacity, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        header = mnl_nlmsg_put_header(buffer)
        header.pointee.nlmsg_type = type
        header.pointee.nlmsg_flags = UInt16(flags)
        header.pointee.nlmsg_seq = sequence
    }

    deinit { buffer.deallocate() }

    /// Appends a fixed header (genlmsghdr, ifinfomsg, ifaddrmsg) right after the netlink header.
    func putHeader<T>(_ value: T) {
        let extra = mnl_nlmsg_put_extra_header(header, MemoryLayout<T>.size)!
        extra.storeBytes(of: value, as: T.self)
    }

    @discardableResult
    func put(_ type: UInt16, bytes: UnsafeRawBufferPointer) -> Bool {
        mnl_attr_put_check(header, capacity, type, bytes.count, bytes.baseAddress)
    }

    @discardableResult
    func put<T: FixedWidthInteger>(_ type: UInt16, _ value: T) -> Bool {
        withUnsafeBytes(of: value) { put(type, bytes: $0) }
    }

    @discardableResult
    func put(_ type: UInt16, string: String) -> Bool {
        mnl_attr_put_strz_check(header, capacity, type, string)
    }

    @discardableResult
    func put(_ type: UInt16, key: Key) -> Bool {
        key.withUnsafeBytes { put(type, bytes: $0) }
    }

    /// Opens a nested attribute (libmnl sets `NLA_F_NESTED`), or nil when it does not fit.
    func nestStart(_ type: UInt16) -> UnsafeMutablePointer<nlattr>? {
        mnl_attr_nest_start_check(header, capacity, type)
    }

    func nestEnd(_ nest: UnsafeMutablePointer<nlattr>) { mnl_attr_nest_end(header, nest) }
    func nestCancel(_ nest: UnsafeMutablePointer<nlattr>) { mnl_attr_nest_cancel(header, nest) }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: buffer, count: Int(header.pointee.nlmsg_len)) }
}

/// The replies to one request, handed to Swift one message at a time by libmnl's `mnl_cb_run`.
private final class ReplyCollector {
    let body: (UnsafeRawBufferPointer) throws -> Void
    var error: (any Error)?
    init(_ body: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.body = body }
}

/// An open netlink socket (libmnl). It owns the descriptor and closes it when dropped.
struct NetlinkSocket: ~Copyable, @unchecked Sendable {  // one owner at a time; libmnl state is not shared
    private let socket: OpaquePointer
    let portID: UInt32
    private var sequence: UInt32

    /// - Parameter netlinkProtocol: `NETLINK_GENERIC` or `NETLINK_ROUTE`.
    init(netlinkProtocol: Int32) throws(WireGuardError) {
        guard let socket = mnl_socket_open(netlinkProtocol) else {
            throw .system(operation: "netlink socket", errno: Errno(rawValue: errno))
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let e = Errno(rawValue: errno)
            mnl_socket_close(socket)
            throw .system(operation: "netlink bind", errno: e)
        }
        // Large dumps: let the kernel queue more before we read.
        var size: Int32 = 1 << 20
        _ = setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        self.socket = socket
        self.portID = mnl_socket_get_portid(socket)
        self.sequence = UInt32(truncatingIfNeeded: time(nil))
    }

    deinit { mnl_socket_close(socket) }

    mutating func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// Sends `message` and runs `onReply` on every data message until the kernel's ACK or
    /// DONE. A kernel error comes back as its errno; `NLM_F_DUMP_INTR` as `EINTR`.
    func transact(_ message: borrowing NetlinkMessageBuilder,
                  onReply: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> Void {
        let bytes = message.bytes
        guard mnl_socket_sendto(socket, bytes.baseAddress, bytes.count) >= 0 else {
            throw WireGuardError.system(operation: "netlink send", errno: Errno(rawValue: errno))
        }
        let sequence = message.header.pointee.nlmsg_seq
        let collector = ReplyCollector(onReply)
        let context = Unmanaged.passUnretained(collector).toOpaque()
        let bufferSize = 1 << 16
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let received = mnl_socket_recvfrom(socket, buffer, bufferSize)
            guard received >= 0 else {
                if errno == EINTR { continue }
                throw WireGuardError.system(operation: "netlink receive", errno: Errno(rawValue: errno))
            }
            let status = withExtendedLifetime(collector) {
                mnl_cb_run(buffer, received, sequence, portID, { header, context in
                    let collector = Unmanaged<ReplyCollector>.fromOpaque(context!).takeUnretainedValue()
                    let length = Int(header!.pointee.nlmsg_len)
                    do {
                        try collector.body(UnsafeRawBufferPointer(start: UnsafeRawPointer(header!), count: length))
                        return MNL_CB_OK
                    } catch {
                        collector.error = error
                        return MNL_CB_ERROR
                    }
                }, context)
            }
            if let error = collector.error { throw error }
            if status == MNL_CB_ERROR { throw NetlinkKernelError(errno: Errno(rawValue: errno)) }
            if status == MNL_CB_STOP { return }
        }
    }
}

extension NetlinkSocket {
    /// Reserves `count` consecutive sequence numbers and returns the first.
    mutating func reserveSequences(_ count: Int) -> UInt32 {
        let first = nextSequence()
        for _ in 1..<max(count, 1) { _ = nextSequence() }
        return first
    }

    /// Sends `requests`, whole netlink messages numbered from `firstSequence` on, in one datagram,
    /// and reads one reply to each: a data message goes to `onReply(index, message)`, and an
    /// `NLMSG_ERROR` gives that request's errno (nil for an acknowledgement). So each request must
    /// draw exactly one message: a GET without `NLM_F_ACK`, or a change with it.
    func pipeline(_ requests: [UInt8], count: Int, firstSequence: UInt32,
                  onReply: (Int, UnsafeRawBufferPointer) throws -> Void) throws -> [Errno?] {
        guard count > 0 else { return [] }
        guard requests.withUnsafeBytes({ mnl_socket_sendto(socket, $0.baseAddress, $0.count) }) >= 0 else {
            throw WireGuardError.system(operation: "netlink send", errno: Errno(rawValue: errno))
        }
        var outcomes = [Errno?](repeating: nil, count: count)
        var answered = [Bool](repeating: false, count: count)
        var remaining = count
        let bufferSize = 1 << 16
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let headerSize = MemoryLayout<nlmsghdr>.size
        while remaining > 0 {
            let received = mnl_socket_recvfrom(socket, buffer, bufferSize)
            guard received >= 0 else {
                if errno == EINTR { continue }
                throw WireGuardError.system(operation: "netlink receive", errno: Errno(rawValue: errno))
            }
            var messages = NetlinkMessages(UnsafeRawBufferPointer(start: buffer, count: received)).makeIterator()
            while let (header, message) = messages.next() {
                let index = Int(header.nlmsg_seq &- firstSequence)
                if index >= 0, index < count, !answered[index] {  // anything else is not ours
                    if header.nlmsg_type == UInt16(NLMSG_ERROR) {
                        guard message.count >= headerSize + 4 else { throw NetlinkDecodeError("short NLMSG_ERROR") }
                        let code = message.loadUnaligned(fromByteOffset: headerSize, as: Int32.self)
                        if code != 0 { outcomes[index] = Errno(rawValue: -code) }
                    } else {
                        try onReply(index, message)
                    }
                    answered[index] = true
                    remaining -= 1
                }
            }
            if let error = messages.malformed { throw error }
        }
        return outcomes
    }
}

/// An error the kernel returned in an `NLMSG_ERROR` message.
struct NetlinkKernelError: Error {
    let errno: Errno
}

/// The netlink messages in one datagram, each with its header, in order. Iteration stops at a
/// message whose length does not fit; the iterator's `malformed` then says why.
struct NetlinkMessages: Sequence {
    let datagram: UnsafeRawBufferPointer
    init(_ datagram: UnsafeRawBufferPointer) { self.datagram = datagram }

    func makeIterator() -> Iterator { Iterator(datagram: datagram) }

    struct Iterator: IteratorProtocol {
        let datagram: UnsafeRawBufferPointer
        var offset = 0
        var malformed: NetlinkDecodeError?

        mutating func next() -> (header: nlmsghdr, message: UnsafeRawBufferPointer)? {
            let headerSize = MemoryLayout<nlmsghdr>.size
            guard offset + headerSize <= datagram.count else { return nil }
            let header = datagram.loadUnaligned(fromByteOffset: offset, as: nlmsghdr.self)
            let length = Int(header.nlmsg_len)
            guard length >= headerSize, offset + length <= datagram.count else {
                malformed = NetlinkDecodeError("reply of length \(length) at offset \(offset) in \(datagram.count) bytes")
                offset = datagram.count
                return nil
            }
            let message = UnsafeRawBufferPointer(rebasing: datagram[offset..<(offset + length)])
            offset += (length + 3) & ~3
            return (header, message)
        }
    }
}

/// The payload of a netlink message after the netlink header and a fixed header of `T`.
func netlinkPayload<T>(_ message: UnsafeRawBufferPointer, after _: T.Type) -> UnsafeRawBufferPointer {
    let start = MemoryLayout<nlmsghdr>.size + ((MemoryLayout<T>.size + 3) & ~3)
    guard message.count >= start else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(rebasing: message[start...])
}

import CLibMNL
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's WireGuard, through the generic netlink family `wireguard`.
struct KernelWireGuard: ~Copyable, Sendable {
    private var socket: NetlinkSocket
    let familyID: UInt16

    /// Opens the family; nil when the kernel has no `wireguard` family (module not loaded).
    static func open() throws(WireGuardError) -> KernelWireGuard? {
        var socket = try NetlinkSocket(netlinkProtocol: NETLINK_GENERIC)
        let message = NetlinkMessageBuilder(type: UInt16(GENL_ID_CTRL), flags: NLM_F_REQUEST | NLM_F_ACK,
                                            sequence: socket.nextSequence(), capacity: 256)
        message.putHeader(genlmsghdr(cmd: UInt8(CTRL_CMD_GETFAMILY), version: 1, reserved: 0))
        message.put(UInt16(CTRL_ATTR_FAMILY_NAME), string: WG_GENL_NAME)
        var family: UInt16?
        do {
            try socket.transact(message) { reply in
                for a in try NetlinkAttributes(netlinkPayload(reply, after: genlmsghdr.self)).all()
                where a.type == UInt16(CTRL_ATTR_FAMILY_ID) {
                    family = try a.u16()
                }
            }
        } catch let error as NetlinkKernelError {
            if error.errno == .noSuchFileOrDirectory { return nil }
            throw .system(operation: "resolve the wireguard netlink family", errno: error.errno)
        } catch let error as NetlinkDecodeError {
            throw .malformedReply(error.reason)
        } catch {
            throw error as! WireGuardError
        }
        guard let family else { return nil }
        return KernelWireGuard(socket: socket, familyID: family)
    }

    private init(socket: consuming NetlinkSocket, familyID: UInt16) {
        self.socket = socket
        self.familyID = familyID
    }

    /// Reads a device with a `WG_CMD_GET_DEVICE` dump, restarting it if the kernel flags it
    /// interrupted (`NLM_F_DUMP_INTR`, because the device changed while it was read).
    /// With `peers`, each peer goes there as it arrives, with the device's own fields, instead of
    /// into the device returned; `peers(nil)` says the dump restarted.
    mutating func device(named name: String, peers sink: (((Device, Peer)?) -> Void)? = nil) throws(WireGuardError) -> Device {
        for attempt in 0..<16 {
            if attempt > 0 { sink?(nil) }
            let message = NetlinkMessageBuilder(type: familyID, flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP,
                                                sequence: socket.nextSequence(), capacity: 256)
            message.putHeader(genlmsghdr(cmd: WGAttribute.getDevice, version: UInt8(WG_GENL_VERSION), reserved: 0))
            message.put(WGAttribute.Device.ifname, string: name)
            let decoder = Box(WireGuardDumpDecoder(onPeer: sink.map { sink in { sink(($0, $1)) } }))
            do {
                try socket.transact(message) { reply in
                    try decoder.value.add(attributes: netlinkPayload(reply, after: genlmsghdr.self))
                }
                decoder.value.finish()
                var device = decoder.value.device
                if device.name.isEmpty { device.name = name }
                return device
            } catch let error as NetlinkKernelError {
                if error.errno == .interrupted { continue }
                throw .kernel(error.errno, device: name, operation: "read")
            } catch let error as NetlinkDecodeError {
                throw .malformedReply(error.reason)
            } catch {
                throw error as! WireGuardError
            }
        }
        throw .system(operation: "read \(name)", errno: .interrupted)
    }

    /// Applies `config` with as many `WG_CMD_SET_DEVICE` messages as it takes.
    mutating func apply(_ config: DeviceConfig, to name: String) throws(WireGuardError) {
        var cursor = SetCursor()
        repeat {
            let message = NetlinkMessageBuilder(type: familyID, flags: NLM_F_REQUEST | NLM_F_ACK,
                                                sequence: socket.nextSequence())
            message.putHeader(genlmsghdr(cmd: WGAttribute.setDevice, version: UInt8(WG_GENL_VERSION), reserved: 0))
            try Self.fill(message, name: name, config: config, cursor: &cursor)
            do {
                try socket.transact(message) { _ in }
            } catch let error as NetlinkKernelError {
                throw .kernel(error.errno, device: name, operation: "configure")
            } catch {
                throw error as! WireGuardError
            }
        } while !cursor.done
    }

    /// Where the next SET message resumes: which peer, and which of its allowed IPs.
    struct SetCursor {
        var firstMessage = true
        var peer = 0
        var allowedIP = 0
        var peerStarted = false
        var done = false
    }

    /// Fills one SET message from `cursor` on. A peer that does not fit is continued in the
    /// next message under the same public key, without its flags (they were already sent).
    static func fill(_ m: borrowing NetlinkMessageBuilder, name: String, config: DeviceConfig,
                     cursor: inout SetCursor) throws(WireGuardError) {
        m.put(WGAttribute.Device.ifname, string: name)
        if cursor.firstMessage {
            if let key = config.privateKey { m.put(WGAttribute.Device.privateKey, key: key.key) }
            if let port = config.listenPort { m.put(WGAttribute.Device.listenPort, port) }
            if let mark = config.firewallMark { m.put(WGAttribute.Device.fwmark, mark) }
            if config.replacePeers { m.put(WGAttribute.Device.flags, WGAttribute.Device.replacePeers) }
            cursor.firstMessage = false
        }
        guard cursor.peer < config.peers.count else { cursor.done = true; return }
        guard let peers = m.nestStart(WGAttribute.Device.peers) else {
            throw .invalidArgument("netlink message too small for a peer list")
        }
        var progressed = false
        peerLoop: while cursor.peer < config.peers.count {
            let peer = config.peers[cursor.peer]
            guard let nest = m.nestStart(0) else { break peerLoop }
            guard m.put(WGAttribute.Peer.publicKey, key: peer.publicKey) else {
                m.nestCancel(nest)  // an empty peer header would leave a zero-length attribute behind
                break peerLoop
            }
            if !cursor.peerStarted {
                var flags: UInt32 = 0
                if peer.remove { flags |= WGAttribute.Peer.removeMe }
                if peer.replaceAllowedIPs { flags |= WGAttribute.Peer.replaceAllowedIPs }
                if peer.updateOnly { flags |= WGAttribute.Peer.updateOnly }
                var fits = flags == 0 || m.put(WGAttribute.Peer.flags, flags)
                if !peer.remove {
                    if let psk = peer.presharedKey { fits = fits && m.put(WGAttribute.Peer.presharedKey, key: psk.key) }
                    if let endpoint = peer.endpoint { fits = fits && Self.sockaddr(endpoint) { m.put(WGAttribute.Peer.endpoint, bytes: $0) } }
                    if let keepalive = peer.persistentKeepalive { fits = fits && m.put(WGAttribute.Peer.keepalive, keepalive) }
                }
                guard fits else { m.nestCancel(nest); break peerLoop }
                cursor.peerStarted = true
                progressed = true
            }
            if !peer.remove && cursor.allowedIP < peer.allowedIPs.count {
                guard let list = m.nestStart(WGAttribute.Peer.allowedIPs) else { m.nestEnd(nest); break peerLoop }
                while cursor.allowedIP < peer.allowedIPs.count {
                    let ip = peer.allowedIPs[cursor.allowedIP]
                    guard let entry = m.nestStart(0) else { break }
                    let fits = m.put(WGAttribute.AllowedIP.family, ip.address.family.addressFamily)
                        && ip.address.withUnsafeBytes { m.put(WGAttribute.AllowedIP.address, bytes: $0) }
                        && m.put(WGAttribute.AllowedIP.cidr, ip.prefixLength)
                    guard fits else { m.nestCancel(entry); break }
                    m.nestEnd(entry)
                    cursor.allowedIP += 1
                    progressed = true
                }
                m.nestEnd(list)
                if cursor.allowedIP < peer.allowedIPs.count { m.nestEnd(nest); break peerLoop }
            }
            m.nestEnd(nest)
            cursor.peer += 1
            cursor.allowedIP = 0
            cursor.peerStarted = false
        }
        m.nestEnd(peers)
        if cursor.peer == config.peers.count { cursor.done = true }
        if !progressed && !cursor.done { throw .invalidArgument("a peer does not fit in one netlink message") }
    }

    /// The endpoint as the kernel wants it: a sockaddr_in or sockaddr_in6.
    static func sockaddr<R>(_ endpoint: Endpoint, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if endpoint.address.family == .v4 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = endpoint.port.bigEndian
            endpoint.address.withUnsafeBytes { address in
                withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyMemory(from: address) }
            }
            return withUnsafeBytes(of: sin, body)
        }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = endpoint.port.bigEndian
        sin6.sin6_scope_id = endpoint.scopeID
        endpoint.address.withUnsafeBytes { address in
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyMemory(from: address) }
        }
        return withUnsafeBytes(of: sin6, body)
    }
}

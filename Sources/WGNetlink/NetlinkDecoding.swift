/// Why a netlink reply could not be decoded.
public struct NetlinkDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public var description: String { "malformed netlink reply: \(reason)" }
    init(_ reason: String) { self.reason = reason }
}

/// One attribute: its type (flags stripped) and payload, viewed in place.
struct NetlinkAttribute {
    let type: UInt16
    let isNested: Bool
    let payload: UnsafeRawBufferPointer

    func u8() throws(NetlinkDecodeError) -> UInt8 { try fixed(UInt8.self) }
    func u16() throws(NetlinkDecodeError) -> UInt16 { try fixed(UInt16.self) }
    func u32() throws(NetlinkDecodeError) -> UInt32 { try fixed(UInt32.self) }
    func u64() throws(NetlinkDecodeError) -> UInt64 { try fixed(UInt64.self) }

    func fixed<T: FixedWidthInteger>(_: T.Type) throws(NetlinkDecodeError) -> T {
        guard payload.count >= MemoryLayout<T>.size else {
            throw NetlinkDecodeError("attribute \(type) has \(payload.count) bytes, needs \(MemoryLayout<T>.size)")
        }
        return payload.loadUnaligned(as: T.self)
    }

    /// A NUL-terminated string.
    var string: String {
        let end = payload.firstIndex(of: 0) ?? payload.count
        return String(decoding: UnsafeRawBufferPointer(rebasing: payload[..<end]), as: UTF8.self)
    }

    func key(secret: Bool = false) throws(NetlinkDecodeError) -> Key {
        guard payload.count == Key.byteCount else { throw NetlinkDecodeError("key attribute \(type) has \(payload.count) bytes") }
        return (secret ? Key(secretBytes: payload) : Key(bytes: payload))!
    }

    /// A key, or nil for the kernel's all-zero "none" (checked before a secret is copied anywhere).
    func keyUnlessZero(secret: Bool = false) throws(NetlinkDecodeError) -> Key? {
        guard payload.count == Key.byteCount else { throw NetlinkDecodeError("key attribute \(type) has \(payload.count) bytes") }
        if payload.loadUnaligned(as: UInt64.self) | payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            | payload.loadUnaligned(fromByteOffset: 16, as: UInt64.self) | payload.loadUnaligned(fromByteOffset: 24, as: UInt64.self) == 0 {
            return nil
        }
        return (secret ? Key(secretBytes: payload) : Key(bytes: payload))!
    }

    var nested: NetlinkAttributes { NetlinkAttributes(payload) }
}

/// The attributes in a buffer, in order. `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` are stripped
/// from the type; a zero-length `PAD`-style attribute is passed through for the caller to skip.
struct NetlinkAttributes: Sequence {
    let buffer: UnsafeRawBufferPointer
    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    func makeIterator() -> Iterator { Iterator(buffer: buffer) }

    struct Iterator: IteratorProtocol {
        let buffer: UnsafeRawBufferPointer
        var offset = 0
        /// Set when the buffer ends in the middle of an attribute.
        var malformed: NetlinkDecodeError?

        mutating func next() -> NetlinkAttribute? {
            guard offset + 4 <= buffer.count else {
                if offset < buffer.count { malformed = NetlinkDecodeError("\(buffer.count - offset) trailing bytes") }
                return nil
            }
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let rawType = buffer.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)
            guard length >= 4, offset + length <= buffer.count else {
                malformed = NetlinkDecodeError("attribute of length \(length) at offset \(offset) in \(buffer.count) bytes")
                return nil
            }
            let payload = UnsafeRawBufferPointer(rebasing: buffer[(offset + 4)..<(offset + length)])
            offset += (length + 3) & ~3
            return NetlinkAttribute(type: rawType & 0x3FFF, isNested: rawType & 0x8000 != 0, payload: payload)
        }
    }

    /// Calls `body` on each attribute in place, then throws if the buffer is malformed.
    func forEach(_ body: (NetlinkAttribute) throws(NetlinkDecodeError) -> Void) throws(NetlinkDecodeError) {
        var it = makeIterator()
        while let a = it.next() { try body(a) }
        if let error = it.malformed { throw error }
    }

    /// Every attribute, or an error when the buffer is malformed.
    func all() throws(NetlinkDecodeError) -> [NetlinkAttribute] {
        var out: [NetlinkAttribute] = []
        try forEach { out.append($0) }
        return out
    }
}

/// The attribute numbers of `include/uapi/linux/wireguard.h`.
enum WGAttribute {
    static let getDevice: UInt8 = 0, setDevice: UInt8 = 1
    enum Device {
        static let ifindex: UInt16 = 1, ifname: UInt16 = 2, privateKey: UInt16 = 3, publicKey: UInt16 = 4
        static let flags: UInt16 = 5, listenPort: UInt16 = 6, fwmark: UInt16 = 7, peers: UInt16 = 8
        static let replacePeers: UInt32 = 1
    }
    enum Peer {
        static let publicKey: UInt16 = 1, presharedKey: UInt16 = 2, flags: UInt16 = 3, endpoint: UInt16 = 4
        static let keepalive: UInt16 = 5, lastHandshake: UInt16 = 6, rxBytes: UInt16 = 7, txBytes: UInt16 = 8
        static let allowedIPs: UInt16 = 9, protocolVersion: UInt16 = 10
        static let removeMe: UInt32 = 1, replaceAllowedIPs: UInt32 = 2, updateOnly: UInt32 = 4
    }
    enum AllowedIP {
        static let family: UInt16 = 1, address: UInt16 = 2, cidr: UInt16 = 3
    }
}

/// Builds a ``Device`` from the messages of a `WG_CMD_GET_DEVICE` dump.
///
/// A big device spans several messages and a peer may continue in the next one; peers are
/// merged by public key, so the split points do not matter.
///
/// With `onPeer`, each finished peer goes there as the dump arrives, with the device (whose
/// fields come in the first message), and `device.peers` holds only the peer still open. The
/// kernel continues a split peer first thing in the next message, and restarts an interrupted
/// dump (`NLM_F_DUMP_INTR`), so within one dump that is the only merge there is to do.
struct WireGuardDumpDecoder {
    private(set) var device = Device(name: "")
    private var peerIndex = PeerIndex()
    private let onPeer: ((Device, Peer) -> Void)?

    init(onPeer: ((Device, Peer) -> Void)? = nil) { self.onPeer = onPeer }

    /// At the end of the dump: hands over the peer still open.
    mutating func finish() {
        if let onPeer, let last = device.peers.popLast() { onPeer(device, last) }
    }

    /// Adds one message's payload: the bytes after the generic netlink header.
    mutating func add(attributes payload: UnsafeRawBufferPointer) throws(NetlinkDecodeError) {
        try NetlinkAttributes(payload).forEach { attribute throws(NetlinkDecodeError) in
            switch attribute.type {
            case WGAttribute.Device.ifindex: device.interfaceIndex = try attribute.u32()
            case WGAttribute.Device.ifname: device.name = attribute.string
            case WGAttribute.Device.privateKey: device.privateKey = try attribute.keyUnlessZero(secret: true)
            case WGAttribute.Device.publicKey: device.publicKey = try attribute.keyUnlessZero()
            case WGAttribute.Device.listenPort: device.listenPort = try attribute.u16()
            case WGAttribute.Device.fwmark: device.firewallMark = try attribute.u32()
            case WGAttribute.Device.peers:
                try attribute.nested.forEach { entry throws(NetlinkDecodeError) in
                    if !entry.payload.isEmpty { try addPeer(entry.nested) }
                }
            default: break  // padding and attributes from newer kernels
            }
        }
    }

    /// Starts a peer, or continues the one with the same key. The kernel continues a split
    /// peer first thing in the next message, so the last peer is checked before the index.
    private mutating func addPeer(_ attributes: NetlinkAttributes) throws(NetlinkDecodeError) {
        var search = attributes.makeIterator()
        var key: Key?
        while let attribute = search.next() {
            if attribute.type == WGAttribute.Peer.publicKey {
                key = try attribute.key()
                break
            }
        }
        guard let key else {
            throw search.malformed ?? NetlinkDecodeError("peer without a public key")
        }
        if let last = device.peers.indices.last, device.peers[last].publicKey == key {
            try Self.fill(&device.peers[last], from: attributes)
        } else if let onPeer {
            // The finished peer's storage is reused for the next one, allowed IPs' buffer included.
            var peer = Peer(publicKey: key)
            if var done = device.peers.popLast() {
                onPeer(device, done)
                swap(&peer.allowedIPs, &done.allowedIPs)
                peer.allowedIPs.removeAll(keepingCapacity: true)
            }
            try Self.fill(&peer, from: attributes)
            device.peers.append(peer)
        } else if let existing = peerIndex.position(of: key, in: device.peers) {
            try Self.fill(&device.peers[existing], from: attributes)
        } else {
            var peer = Peer(publicKey: key)
            try Self.fill(&peer, from: attributes)
            device.peers.append(peer)
            peerIndex.indexLast(of: device.peers)
        }
    }

    private static func fill(_ peer: inout Peer, from attributes: NetlinkAttributes) throws(NetlinkDecodeError) {
        try attributes.forEach { attribute throws(NetlinkDecodeError) in
            switch attribute.type {
            case WGAttribute.Peer.presharedKey: peer.presharedKey = try attribute.keyUnlessZero(secret: true)
            case WGAttribute.Peer.endpoint: peer.endpoint = try Self.endpoint(attribute.payload)
            case WGAttribute.Peer.keepalive: peer.persistentKeepalive = try attribute.u16()
            case WGAttribute.Peer.lastHandshake:
                guard attribute.payload.count == 16 else { throw NetlinkDecodeError("handshake time of \(attribute.payload.count) bytes") }
                peer.lastHandshake = HandshakeTime(seconds: attribute.payload.loadUnaligned(as: Int64.self),
                                                   nanoseconds: attribute.payload.loadUnaligned(fromByteOffset: 8, as: Int64.self))
            case WGAttribute.Peer.rxBytes: peer.receivedBytes = try attribute.u64()
            case WGAttribute.Peer.txBytes: peer.transmittedBytes = try attribute.u64()
            case WGAttribute.Peer.protocolVersion: peer.protocolVersion = try attribute.u32()
            case WGAttribute.Peer.allowedIPs:
                try attribute.nested.forEach { entry throws(NetlinkDecodeError) in
                    if !entry.payload.isEmpty { peer.allowedIPs.append(try Self.allowedIP(entry.nested)) }
                }
            default: break
            }
        }
    }

    /// A `sockaddr_in` or `sockaddr_in6`: family in host order, port in network order,
    /// the IPv6 scope id in host order.
    static func endpoint(_ raw: UnsafeRawBufferPointer) throws(NetlinkDecodeError) -> Endpoint? {
        guard raw.count >= 2 else { throw NetlinkDecodeError("endpoint of \(raw.count) bytes") }
        let family = raw.loadUnaligned(as: UInt16.self)
        let port = UInt16(bigEndian: raw.count >= 4 ? raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self) : 0)
        if family == IPAddress.Family.v4.addressFamily, raw.count >= 8 {
            return Endpoint(address: IPAddress(bytes: UnsafeRawBufferPointer(rebasing: raw[4..<8]))!, port: port)
        }
        if family == IPAddress.Family.v6.addressFamily, raw.count >= 28 {
            return Endpoint(address: IPAddress(bytes: UnsafeRawBufferPointer(rebasing: raw[8..<24]))!, port: port,
                            scopeID: raw.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        }
        if family == 0 { return nil }
        throw NetlinkDecodeError("endpoint of family \(family) in \(raw.count) bytes")
    }

    static func allowedIP(_ attributes: NetlinkAttributes) throws(NetlinkDecodeError) -> AllowedIP {
        var family: UInt16?, address: IPAddress?, cidr: UInt8?
        try attributes.forEach { a throws(NetlinkDecodeError) in
            switch a.type {
            case WGAttribute.AllowedIP.family: family = try a.u16()
            case WGAttribute.AllowedIP.address: address = IPAddress(bytes: a.payload)
            case WGAttribute.AllowedIP.cidr: cidr = try a.u8()
            default: break
            }
        }
        guard let family, let address, let cidr, address.family.addressFamily == family,
              let ip = AllowedIP(address: address, prefixLength: Int(cidr)) else {
            throw NetlinkDecodeError("incomplete allowed IP")
        }
        return ip
    }
}

/// Where each peer sits in a device's peer list, by public key: open addressing with linear
/// probing on the key's folded words, which each slot keeps so that a miss rarely touches the
/// peers themselves. Swift's `Dictionary` seeds a SipHash for every lookup, which was a third
/// of the time to decode and print a dump of 50,000 peers.
struct PeerIndex {
    private struct Slot {
        var fold: UInt64 = 0
        /// Peer position + 1; 0 is an empty slot.
        var position: UInt32 = 0
    }
    /// A power of two, at most half full.
    private var slots: [Slot] = []
    private var shift = 64

    private func start(_ fold: UInt64) -> Int {
        Int(truncatingIfNeeded: (fold &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// The position in `peers` of the peer with `key`, if it was indexed.
    func position(of key: Key, in peers: [Peer]) -> Int? {
        guard !slots.isEmpty else { return nil }
        let fold = key.foldedWords
        var i = start(fold)
        while slots[i].position != 0 {
            let position = Int(slots[i].position - 1)
            if slots[i].fold == fold && peers[position].publicKey == key { return position }
            i = (i + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Indexes the last peer of `peers`, which must not be indexed yet.
    mutating func indexLast(of peers: [Peer]) {
        if peers.count * 2 > slots.count {
            let size = max(64, slots.count * 2)
            slots = [Slot](repeating: Slot(), count: size)
            shift = 64 - size.trailingZeroBitCount
            for position in peers.indices { place(peers[position].publicKey.foldedWords, at: position) }
        } else {
            place(peers[peers.count - 1].publicKey.foldedWords, at: peers.count - 1)
        }
    }

    private mutating func place(_ fold: UInt64, at position: Int) {
        var i = start(fold)
        while slots[i].position != 0 { i = (i + 1) & (slots.count - 1) }
        slots[i] = Slot(fold: fold, position: UInt32(position + 1))
    }
}

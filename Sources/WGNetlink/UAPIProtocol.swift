/// A UAPI reply that is malformed or reports an error.
public enum UAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    /// `errno=N` with N ≠ 0 (stored positive).
    case status(device: String, errno: Int32)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed UAPI reply: \(why)"
        case .status(let device, let errno): "\(device): the userspace implementation answered errno \(errno)"
        }
    }
}

/// The cross-platform userspace API (wireguard-go, boringtun): `get=1` / `set=1` and key=value
/// lines, answered with `errno=N`. Pure text in, text out; the socket lives in ``UserspaceWireGuard``.
public enum UAPIProtocol {
    /// The `set=1` request for `config`, ending in the blank line.
    public static func setRequest(_ config: DeviceConfig, scopeName: (UInt32) -> String? = { String($0) }) -> String {
        var request: [UInt8] = []
        writeSetRequest(config, scopeName: scopeName) { piece in
            request.append(contentsOf: piece)
            return true
        }
        return String(decoding: request, as: UTF8.self)
    }

    /// ``setRequest(_:scopeName:)`` formatted as bytes into pieces of about `pieceSize`, each
    /// handed to `send` as soon as it is full, so that the implementation parses one piece while
    /// the next is formatted (`wg` writes through stdio the same way). `send` returns false to
    /// stop early, when the implementation has stopped reading.
    public static func writeSetRequest(_ config: DeviceConfig, scopeName: (UInt32) -> String? = { String($0) },
                                       pieceSize: Int = 1 << 16, send: (UnsafeRawBufferPointer) -> Bool) {
        var out: [UInt8] = []
        out.reserveCapacity(pieceSize + 256)
        func add(_ text: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        func hex(_ name: StaticString, _ key: Key) {
            add(name)
            key.withUnsafeBytes { Hex.append($0, to: &out) }
            out.append(0x0A)
        }
        func decimal(_ name: StaticString, _ value: UInt64) {
            add(name)
            appendDecimal(value, to: &out)
            out.append(0x0A)
        }
        /// Sends what is formatted once it fills a piece; false if `send` asked to stop.
        func flushWhenFull() -> Bool {
            guard out.count >= pieceSize else { return true }
            defer { out.removeAll(keepingCapacity: true) }
            return out.withUnsafeBytes(send)
        }
        // wireguard-go keeps the flag "this peer's keepalive was just turned on" from one peer of
        // a request to the next (ipcSetPeer.pkaOn), and sends each later peer a keepalive at once
        // unless a keepalive line of its own resets the flag: over 60 s instead of 3 s for the
        // test fixture's 5,000 peers. A peer that replace_peers creates has no keepalive, so wg
        // leaves "=0" out for it; labctl does too, until a peer before it turned one on.
        var keepaliveTurnedOn = false
        add("set=1\n")
        if let key = config.privateKey { hex("private_key=", key.key) }
        if let port = config.listenPort { decimal("listen_port=", UInt64(port)) }
        if let mark = config.firewallMark { decimal("fwmark=", UInt64(mark)) }
        if config.replacePeers { add("replace_peers=true\n") }
        for peer in config.peers {
            guard flushWhenFull() else { return }
            hex("public_key=", peer.publicKey)
            if peer.remove { add("remove=true\n"); continue }
            if peer.updateOnly { add("update_only=true\n") }
            // A peer that replace_peers creates has no preshared key; wg leaves the line out too.
            if let psk = peer.presharedKey, !(config.replacePeers && psk == .remove) { hex("preshared_key=", psk.key) }
            if let endpoint = peer.endpoint {
                add("endpoint=")
                endpoint.appendFormatted(to: &out, scopeName: scopeName)
                out.append(0x0A)
            }
            if let keepalive = peer.persistentKeepalive, keepalive != 0 || !config.replacePeers || keepaliveTurnedOn {
                decimal("persistent_keepalive_interval=", UInt64(keepalive))
                keepaliveTurnedOn = keepaliveTurnedOn || keepalive != 0
            }
            if peer.replaceAllowedIPs { add("replace_allowed_ips=true\n") }
            for ip in peer.allowedIPs {
                add("allowed_ip=")
                ip.address.appendDescription(to: &out)
                out.append(0x2F)  // '/'
                appendDecimal(UInt64(ip.prefixLength), to: &out)
                out.append(0x0A)
                guard flushWhenFull() else { return }
            }
        }
        out.append(0x0A)
        _ = out.withUnsafeBytes(send)
    }

    /// Parses a `get=1` reply into a device. The public key is derived from the private key.
    /// A reply with `errno=N` (N ≠ 0) throws ``UAPIError/status(device:errno:)``.
    public static func parseGetReply(_ text: String, device name: String,
                                     scopeIndex: (String) -> UInt32? = { UInt32($0) }) throws(UAPIError) -> Device {
        var text = text
        var reader = GetReplyReader(device: name)
        text.withUTF8 { _ = reader.read($0, scopeIndex: scopeIndex) }
        return try reader.finish(scopeIndex: scopeIndex).get()
    }

    /// Reads a `get=1` reply in pieces as they arrive, so that a client can parse while the
    /// implementation still writes (`wg` does the same with `fgets`). Lines are read in place:
    /// a reply for 50,000 peers has 300,000 of them.
    struct GetReplyReader {
        let name: String
        var device: Device
        /// The peer whose lines are being read (valid while `inPeer`); kept out of an Optional
        /// so that each line updates it in place.
        var peer = Peer(publicKey: Key(bytes: [UInt8](repeating: 0, count: 32))!)
        var inPeer = false
        var status: Int32?
        var line = 0
        var failure: UAPIError?
        /// The reply's blank line after `errno` has been read.
        var complete = false
        /// The start of a line that the last piece cut off.
        var pending: [UInt8] = []
        /// Where each peer goes once its lines are read; nil keeps them in `device.peers`.
        let eachPeer: ((Peer) -> Void)?

        init(device name: String, eachPeer: ((Peer) -> Void)? = nil) {
            self.name = name
            self.eachPeer = eachPeer
            device = Device(name: name)
        }

        private mutating func peerDone() {
            if let eachPeer { eachPeer(peer) } else { device.peers.append(peer) }
        }

        /// Reads the next piece of the reply; true once the reply is complete (or bad).
        mutating func read(_ piece: UnsafeBufferPointer<UInt8>, scopeIndex: (String) -> UInt32?) -> Bool {
            var start = 0
            if !pending.isEmpty {
                guard let newline = piece.firstIndex(of: 0x0A) else { pending += piece; return false }
                pending += piece[..<newline]
                takePending(scopeIndex: scopeIndex)
                start = newline + 1
            }
            while start < piece.count && !complete && failure == nil {
                guard let newline = piece[start...].firstIndex(of: 0x0A) else {
                    pending = Array(piece[start...])
                    break
                }
                take(UnsafeBufferPointer(rebasing: piece[start..<newline]), scopeIndex: scopeIndex)
                start = newline + 1
            }
            return complete || failure != nil
        }

        /// The device, once the whole reply (or all there was of it) has been read.
        mutating func finish(scopeIndex: (String) -> UInt32?) -> Result<Device, UAPIError> {
            if !pending.isEmpty { takePending(scopeIndex: scopeIndex) }
            if let failure { return .failure(failure) }
            if inPeer { peerDone(); inPeer = false }
            guard let status else { return .failure(.malformed("\(name): reply without errno")) }
            if status != 0 { return .failure(.status(device: name, errno: abs(status))) }
            return .success(device)
        }

        /// Takes the line collected in `pending`.
        mutating func takePending(scopeIndex: (String) -> UInt32?) {
            let line = pending
            pending = []
            line.withUnsafeBufferPointer { take($0, scopeIndex: scopeIndex) }
        }

        mutating func take(_ rawLine: UnsafeBufferPointer<UInt8>, scopeIndex: (String) -> UInt32?) {
            guard !complete, failure == nil else { return }
            line += 1
            if rawLine.isEmpty { complete = status != nil; return }
            guard let eq = rawLine.firstIndex(of: 0x3D) else {
                return bad("no '=' in '\(String(decoding: rawLine.prefix(80), as: UTF8.self))'")
            }
            let key = UnsafeBufferPointer(rebasing: rawLine[..<eq])
            let value = UnsafeBufferPointer(rebasing: rawLine[(eq + 1)...])
            func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
            func isKey(_ literal: StaticString) -> Bool { asciiMatches(key, literal) }
            /// The value as a number or a hex key; nil after recording why it is not one.
            func number<T: FixedWidthInteger>(_: T.Type) -> T? {
                let n = decimal(value, as: T.self)
                if n == nil { bad("\(text(key))=\(text(value)) is not a number") }
                return n
            }
            func hexKey(secret: Bool) -> Key? {
                let k = Key(hexUTF8: value, secret: secret)
                if k == nil { bad("\(text(key)) is not a 64-digit hex key") }
                return k
            }

            if isKey("public_key") {
                guard let k = hexKey(secret: false) else { return }
                if inPeer { peerDone() }
                peer = Peer(publicKey: k)
                inPeer = true
            } else if isKey("private_key") {
                guard let k = hexKey(secret: true) else { return }
                device.privateKey = k.isZero ? nil : k
                device.publicKey = k.isZero ? nil : KeyGeneration.publicKey(for: k)
            } else if isKey("listen_port") {
                if let n = number(UInt16.self) { device.listenPort = n }
            } else if isKey("fwmark") {
                if let n = number(UInt32.self) { device.firewallMark = n }
            } else if isKey("errno") {
                if let n = number(Int32.self) { status = n }
            } else if !inPeer {
                return bad("'\(text(key))' before any public_key")
            } else if isKey("allowed_ip") {
                guard let ip = AllowedIP(utf8: value) else { return bad("bad allowed_ip '\(text(value))'") }
                peer.allowedIPs.append(ip)
            } else if isKey("endpoint") {
                guard let e = Endpoint(text(value), scopeIndex: scopeIndex) else { return bad("bad endpoint '\(text(value))'") }
                peer.endpoint = e
            } else if isKey("preshared_key") {
                guard let k = hexKey(secret: true) else { return }
                peer.presharedKey = k.isZero ? nil : k
            } else if isKey("persistent_keepalive_interval") {
                if let n = number(UInt16.self) { peer.persistentKeepalive = n }
            } else if isKey("last_handshake_time_sec") {
                if let n = number(Int64.self) { peer.lastHandshake = HandshakeTime(seconds: n, nanoseconds: peer.lastHandshake.nanoseconds) }
            } else if isKey("last_handshake_time_nsec") {
                if let n = number(Int64.self) { peer.lastHandshake = HandshakeTime(seconds: peer.lastHandshake.seconds, nanoseconds: n) }
            } else if isKey("rx_bytes") {
                if let n = number(UInt64.self) { peer.receivedBytes = n }
            } else if isKey("tx_bytes") {
                if let n = number(UInt64.self) { peer.transmittedBytes = n }
            } else if isKey("protocol_version") {
                if let n = number(UInt32.self) { peer.protocolVersion = n }
            }
            // Any other key comes from a newer implementation and is skipped.
        }

        mutating func bad(_ why: String) {
            failure = .malformed("\(name): line \(line): \(why)")
        }
    }

    /// A decimal number as `T(String)` reads one: an optional sign, then digits, in range.
    static func decimal<T: FixedWidthInteger>(_ text: UnsafeBufferPointer<UInt8>, as _: T.Type) -> T? {
        var digits = text[...]
        var negative = false
        if let sign = digits.first, sign == 0x2B || sign == 0x2D {
            negative = sign == 0x2D
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: T = 0
        for c in digits {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times10.subtractingReportingOverflow(T(c - 0x30))
                                             : times10.addingReportingOverflow(T(c - 0x30))
            guard !overflow1 && !overflow2 else { return nil }
            value = next
        }
        return value
    }

    /// The status of a `set=1` reply.
    public static func parseSetReply(_ text: String, device name: String) throws(UAPIError) {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("errno=") }),
              let status = Int32(line.dropFirst(6)) else {
            throw .malformed("\(name): reply without errno")
        }
        if status != 0 { throw .status(device: name, errno: abs(status)) }
    }
}


/// Reads and configures WireGuard devices, picking the backend as wgctrl-go does: the kernel's
/// generic netlink family `wireguard` first, then a userspace implementation's UAPI socket.
public struct WireGuardClient: ~Copyable, Sendable {
    private var kernel: KernelWireGuard?

    /// Which implementation serves a device.
    public enum Backend: String, Sendable, Hashable {
        case kernel, userspace
    }

    public init() throws(WireGuardError) {
        kernel = try KernelWireGuard.open()
    }

    /// Whether the kernel's WireGuard family is available.
    public var hasKernelWireGuard: Bool { kernel != nil }

    /// Every WireGuard device: kernel links of kind `wireguard`, then userspace sockets, sorted by name.
    public mutating func deviceNames() throws(WireGuardError) -> [String] {
        var names = Set(UserspaceWireGuard.deviceNames())
        if kernel != nil {
            var links = try NetworkInterfaces()
            for link in try links.links(kind: "wireguard") { names.insert(link.name) }
        }
        return names.sorted()
    }

    public mutating func backend(for name: String) throws(WireGuardError) -> Backend {
        if kernel != nil, (try? NetworkInterfaces.index(of: name)) != nil { return .kernel }
        if UserspaceWireGuard.hasSocket(for: name) { return .userspace }
        if kernel == nil && UserspaceWireGuard.deviceNames().isEmpty { throw .moduleNotLoaded }
        throw .noSuchDevice(name)
    }

    public mutating func device(named name: String) throws(WireGuardError) -> Device {
        try device(named: name, through: try backend(for: name))
    }

    /// `wg show NAME dump`, as ``ShowFormat/dump(_:prefixInterface:scopeName:)`` prints it, in
    /// pieces to write one after the other. Each peer is formatted as the dump or the reply
    /// arrives, and none is kept.
    public mutating func dump(named name: String, prefixInterface: Bool = false,
                              scopeName: @escaping (UInt32) -> String? = { String($0) }) throws(WireGuardError) -> [[UInt8]] {
        let backend = try backend(for: name)
        let fresh = { ShowFormat.DumpWriter(prefixInterface: prefixInterface, scopeName: scopeName) }
        guard backend == .kernel else {
            // The reply's device lines may come anywhere in it: the interface's line is put in
            // front at the end.
            let writer = Box(fresh())
            let device = try UserspaceWireGuard.device(named: name) { writer.value.addPeer($0, deviceName: name) }
            return writer.value.finishInPieces(device)
        }
        let writer = Box(fresh())
        let device = try kernel!.device(named: name) { got in
            if let (device, peer) = got { writer.value.add(peer, of: device) } else { writer.value = fresh() }
        }
        return writer.value.finishInPieces(device)
    }

    private mutating func device(named name: String, through backend: Backend) throws(WireGuardError) -> Device {
        switch backend {
        case .kernel:
            return try kernel!.device(named: name)
        case .userspace:
            return try UserspaceWireGuard.device(named: name)
        }
    }

    /// Applies `config`. Allowed IPs listed in ``PeerConfig/removedAllowedIPs`` are taken away by
    /// reading the peer and replacing its list, since neither the kernel's netlink API (before
    /// Linux 6.16) nor the UAPI can remove one allowed IP.
    public mutating func configure(_ name: String, _ config: DeviceConfig) throws(WireGuardError) {
        let backend = try backend(for: name)
        var config = config
        if config.peers.contains(where: { !$0.removedAllowedIPs.isEmpty }) {
            let current = try device(named: name, through: backend)
            for i in config.peers.indices where !config.peers[i].removedAllowedIPs.isEmpty {
                let peer = config.peers[i]
                let existing = peer.replaceAllowedIPs ? [] : current.peers.first { $0.publicKey == peer.publicKey }?.allowedIPs ?? []
                let removed = Set(peer.removedAllowedIPs.map(\.canonical))
                var kept: [AllowedIP] = []
                var seen = Set<AllowedIP>()
                for ip in existing + peer.allowedIPs where !removed.contains(ip.canonical) && seen.insert(ip.canonical).inserted {
                    kept.append(ip)
                }
                config.peers[i].allowedIPs = kept
                config.peers[i].replaceAllowedIPs = true
                config.peers[i].removedAllowedIPs = []
            }
        }
        switch backend {
        case .kernel:
            try kernel!.apply(config, to: name)
        case .userspace:
            try UserspaceWireGuard.apply(config, to: name)
        }
    }
}

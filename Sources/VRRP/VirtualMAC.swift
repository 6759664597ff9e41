/// A virtual router's MAC address (RFC 5798 §7.3) and the macvlan interface that carries it with
/// keepalived's `use_vmac`: advertisements, gratuitous ARPs and neighbour advertisements leave
/// from that MAC, so hosts keep their neighbour entry for a VIP when the master changes.
public struct VRRPVirtualMAC: Sendable, Hashable {
    public var interfaceName: String
    /// 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6.
    public var address: [UInt8]

    /// - Parameter interfaceName: nil for keepalived's default, `vrrp.VRID`.
    public init(virtualRouterID: UInt8, ipv6: Bool, interfaceName: String? = nil) {
        self.interfaceName = interfaceName ?? "vrrp.\(virtualRouterID)"
        address = [0x00, 0x00, 0x5E, 0x00, ipv6 ? 0x02 : 0x01, virtualRouterID]
    }

    /// `00:00:5e:00:01:34`, as `ip link` prints it.
    public var addressText: String {
        address.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    /// The IPv4 sysctls keepalived sets for a virtual MAC interface (`net.ipv4.conf.NAME.KEY`):
    /// hear the other routers' advertisements although they come from the same MAC (accept_local,
    /// no reverse-path filter), and answer ARP only for the interface's own addresses.
    public static let interfaceSettings: [(key: String, value: Int)] = [("accept_local", 1), ("arp_ignore", 1), ("rp_filter", 0)]
    /// And for the interface under it, so that it does not answer ARP for the VIPs.
    public static let parentSettings: [(key: String, value: Int)] = [("arp_ignore", 1), ("arp_filter", 1)]
}

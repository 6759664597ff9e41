/// The packets a new master sends so that neighbours update their caches at once.
public enum VRRPAnnouncement {
    /// A gratuitous ARP request for `address` from `mac` (the ARP payload; the link layer adds the
    /// Ethernet header with a broadcast destination).
    public static func gratuitousARP(address: VRRPAddress, mac: [UInt8]) -> [UInt8] {
        precondition(!address.isIPv6 && mac.count == 6)
        var p: [UInt8] = [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]  // Ethernet, IPv4, request
        p += mac + address.bytes
        p += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + address.bytes
        return p
    }

    /// An unsolicited neighbour advertisement (RFC 4861 §7.2.6) for `address` with the Override
    /// flag and the target link-layer address option. The kernel fills in the ICMPv6 checksum.
    public static func unsolicitedNeighborAdvertisement(address: VRRPAddress, mac: [UInt8], router: Bool = false) -> [UInt8] {
        precondition(address.isIPv6 && mac.count == 6)
        var p: [UInt8] = [136, 0, 0, 0, (router ? 0x80 : 0) | 0x20, 0, 0, 0]
        p += address.bytes
        p += [2, 1] + mac
        return p
    }

    /// The virtual router MAC address of RFC 5798 §7.3: 00-00-5E-00-01-VRID (IPv4) or -02- (IPv6).
    public static func virtualMAC(virtualRouterID: UInt8, ipv6: Bool) -> [UInt8] {
        [0x00, 0x00, 0x5E, 0x00, ipv6 ? 0x02 : 0x01, virtualRouterID]
    }
}

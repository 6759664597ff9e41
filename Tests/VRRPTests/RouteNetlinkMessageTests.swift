import CLinuxShims
import Glibc
import Testing
@testable import VRRP

/// The rtnetlink requests as bytes; the namespace tests send them to the kernel.
struct RouteNetlinkMessageTests {
    /// Top-level attributes after a header of `headerSize` bytes, as (type, payload).
    static func attributes(_ bytes: [UInt8], from start: Int) -> [(UInt16, [UInt8])] {
        var out: [(UInt16, [UInt8])] = []
        var i = start
        while i + 4 <= bytes.count {
            let length = Int(bytes[i]) | Int(bytes[i + 1]) << 8
            let type = UInt16(bytes[i + 2]) | UInt16(bytes[i + 3]) << 8
            out.append((type, Array(bytes[(i + 4)..<(i + length)])))
            i += (length + 3) & ~3
        }
        return out
    }

    static func host32(_ b: [UInt8]) -> UInt32 { b.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }

    @Test func createMacvlanNestsKindAndPrivateMode() {
        let vmac = VRRPVirtualMAC(virtualRouterID: 52, ipv6: false)
        let m = RouteNetlinkMessage.createMacvlan(name: vmac.interfaceName, parentIndex: 7, mac: vmac.address,
                                                  flags: UInt16(NLM_F_REQUEST | NLM_F_ACK), sequence: 9)
        #expect(Int(Self.host32(Array(m[0..<4]))) == m.count)
        #expect(UInt16(m[4]) | UInt16(m[5]) << 8 == UInt16(RTM_NEWLINK))
        let flags = UInt16(m[6]) | UInt16(m[7]) << 8
        #expect(flags == UInt16(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL))
        let top = Self.attributes(m, from: 16 + 16)
        #expect(top.map(\.0) == [3, 5, 1, 18])  // IFLA_IFNAME, IFLA_LINK, IFLA_ADDRESS, IFLA_LINKINFO
        #expect(top[0].1 == Array("vrrp.52".utf8) + [0])
        #expect(Self.host32(top[1].1) == 7)
        #expect(top[2].1 == [0x00, 0x00, 0x5E, 0x00, 0x01, 0x34])
        let info = Self.attributes(top[3].1, from: 0)
        #expect(info.map(\.0) == [1, 2])  // IFLA_INFO_KIND, IFLA_INFO_DATA
        #expect(info[0].1 == Array("macvlan".utf8) + [0])
        let data = Self.attributes(info[1].1, from: 0)
        #expect(data.count == 1 && data[0].0 == 1 && Self.host32(data[0].1) == 1)  // IFLA_MACVLAN_MODE private
    }

    @Test func addressGenerationNoneIsInTheInet6Spec() {
        let m = RouteNetlinkMessage.addressGenerationNone(interfaceIndex: 4, flags: 0, sequence: 1)
        #expect(Self.host32(Array(m[20..<24])) == 4)  // ifi_index
        let spec = Self.attributes(m, from: 32)
        #expect(spec.map(\.0) == [26])  // IFLA_AF_SPEC
        let inet6 = Self.attributes(spec[0].1, from: 0)
        #expect(inet6.map(\.0) == [UInt16(AF_INET6)])
        let mode = Self.attributes(inet6[0].1, from: 0)
        #expect(mode.map(\.0) == [8] && mode[0].1 == [1])  // IFLA_INET6_ADDR_GEN_MODE = NONE
    }

    @Test func linkUpSetsOnlyTheUpFlag() {
        let m = RouteNetlinkMessage.linkUp(interfaceIndex: 4, flags: 0, sequence: 1)
        #expect(m.count == 32)
        #expect(Self.host32(Array(m[24..<28])) == UInt32(IFF_UP) && Self.host32(Array(m[28..<32])) == UInt32(IFF_UP))
    }

    @Test func deprecatedAddressCarriesZeroPreferredLifetime() throws {
        let address = try #require(VRRPAddress(parsing: "fe80::1"))
        let m = RouteNetlinkMessage.address(type: UInt16(RTM_NEWADDR), flags: 0, sequence: 1, address: address, prefixLength: 64,
                                            interfaceIndex: 3, label: nil, deprecated: true)
        let attributes = Self.attributes(m, from: 16 + 8)
        let cache = try #require(attributes.first { $0.0 == UInt16(IFA_CACHEINFO) })
        #expect(Self.host32(Array(cache.1[0..<4])) == 0 && Self.host32(Array(cache.1[4..<8])) == UInt32.max)
        #expect(m[16 + 2] == UInt8(IFA_F_NODAD))
    }
}

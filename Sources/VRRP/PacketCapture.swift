/// Packets from a capture file: classic pcap (either byte order, micro- or nanosecond) and
/// pcapng (as tshark and dumpcap write by default). Pure and bounded: a malformed file gives
/// an error naming the offset, never a trap.
public struct CapturedPacket: Sendable, Hashable {
    /// Microseconds since the epoch.
    public var timestamp: Int64
    /// The link-layer type (1 Ethernet, 113 Linux cooked, 276 Linux cooked v2, 101 raw IP, 0 BSD loopback).
    public var linkType: UInt32
    public var data: [UInt8]

    /// The IP packet inside the link-layer frame, or nil for a non-IP frame or an unknown link type.
    public var ipPacket: ArraySlice<UInt8>? {
        var offset: Int
        var etherType: UInt16
        func u16(_ i: Int) -> UInt16 { UInt16(data[i]) << 8 | UInt16(data[i + 1]) }
        switch linkType {
        case 1:
            guard data.count >= 14 else { return nil }
            offset = 14
            etherType = u16(12)
            while (etherType == 0x8100 || etherType == 0x88A8) && data.count >= offset + 4 {
                etherType = u16(offset + 2)
                offset += 4
            }
        case 113:
            guard data.count >= 16 else { return nil }
            offset = 16
            etherType = u16(14)
        case 276:
            guard data.count >= 20 else { return nil }
            offset = 20
            etherType = u16(0)
        case 101, 12, 14:
            return data[...]
        case 0:
            guard data.count >= 4 else { return nil }
            return data[4...]
        default:
            return nil
        }
        guard etherType == 0x0800 || etherType == 0x86DD, offset <= data.count else { return nil }
        return data[offset...]
    }
}

public struct PacketCaptureError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var description: String { "offset \(offset): \(message)" }
}

public enum PacketCapture {
    /// At most this many bytes per packet are accepted.
    public static let maxPacketLength = 262_144

    public static func read(_ bytes: [UInt8]) throws(PacketCaptureError) -> [CapturedPacket] {
        guard bytes.count >= 4 else { throw PacketCaptureError(offset: 0, message: "too short for a capture file") }
        let magic = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        switch magic {
        case 0x0A0D_0D0A: return try pcapng(bytes)
        case 0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1: return try pcap(bytes)
        default: throw PacketCaptureError(offset: 0, message: "not a pcap or pcapng file")
        }
    }

    private static func u32(_ b: [UInt8], _ i: Int, little: Bool) -> UInt32 {
        little ? UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
               : UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    private static func pcap(_ b: [UInt8]) throws(PacketCaptureError) -> [CapturedPacket] {
        guard b.count >= 24 else { throw PacketCaptureError(offset: 0, message: "truncated pcap header") }
        let little = b[0] == 0xD4 || b[0] == 0x4D
        let nanoseconds = b[0] == 0x4D || (b[0] == 0xA1 && b[2] == 0x3C)
        let linkType = u32(b, 20, little: little) & 0x0FFF_FFFF
        var out: [CapturedPacket] = []
        var offset = 24
        while offset < b.count {
            guard offset + 16 <= b.count else { throw PacketCaptureError(offset: offset, message: "truncated record header") }
            let seconds = Int64(u32(b, offset, little: little))
            let fraction = Int64(u32(b, offset + 4, little: little))
            let length = Int(u32(b, offset + 8, little: little))
            guard length <= maxPacketLength else { throw PacketCaptureError(offset: offset, message: "record of \(length) bytes") }
            guard offset + 16 + length <= b.count else { throw PacketCaptureError(offset: offset, message: "truncated record") }
            out.append(CapturedPacket(timestamp: seconds * 1_000_000 + (nanoseconds ? fraction / 1000 : fraction),
                                      linkType: linkType, data: Array(b[(offset + 16)..<(offset + 16 + length)])))
            offset += 16 + length
        }
        return out
    }

    private static func pcapng(_ b: [UInt8]) throws(PacketCaptureError) -> [CapturedPacket] {
        var out: [CapturedPacket] = []
        var little = true
        var interfaces: [(linkType: UInt32, unitsPerSecond: Int64)] = []
        var offset = 0
        while offset < b.count {
            guard offset + 12 <= b.count else { throw PacketCaptureError(offset: offset, message: "truncated block header") }
            if u32(b, offset, little: false) == 0x0A0D_0D0A {
                // Section header: its byte-order magic decides how the rest of the section reads.
                guard offset + 12 <= b.count else { throw PacketCaptureError(offset: offset, message: "truncated section header") }
                let bom = u32(b, offset + 8, little: true)
                guard bom == 0x1A2B_3C4D || bom == 0x4D3C_2B1A else { throw PacketCaptureError(offset: offset, message: "bad byte-order magic") }
                little = bom == 0x1A2B_3C4D
                interfaces = []
            }
            let type = u32(b, offset, little: little)
            let length = Int(u32(b, offset + 4, little: little))
            guard length >= 12, length % 4 == 0, length <= maxPacketLength + 64, offset + length <= b.count else {
                throw PacketCaptureError(offset: offset, message: "bad block length \(length)")
            }
            let body = offset + 8
            let bodyEnd = offset + length - 4
            switch type {
            case 1:  // interface description
                guard bodyEnd - body >= 8 else { throw PacketCaptureError(offset: offset, message: "short interface block") }
                let linkType = little ? UInt32(b[body]) | UInt32(b[body + 1]) << 8 : UInt32(b[body]) << 8 | UInt32(b[body + 1])
                var units: Int64 = 1_000_000
                var o = body + 8
                while o + 4 <= bodyEnd {
                    let code = little ? Int(b[o]) | Int(b[o + 1]) << 8 : Int(b[o]) << 8 | Int(b[o + 1])
                    let size = little ? Int(b[o + 2]) | Int(b[o + 3]) << 8 : Int(b[o + 2]) << 8 | Int(b[o + 3])
                    if code == 0 { break }
                    guard o + 4 + size <= bodyEnd else { break }
                    if code == 9, size >= 1 {  // if_tsresol
                        let v = b[o + 4]
                        let exponent = Int(v & 0x7F)
                        if v & 0x80 == 0, exponent <= 18 {
                            units = 1
                            for _ in 0..<exponent { units *= 10 }
                        }
                    }
                    o += 4 + (size + 3) / 4 * 4
                }
                interfaces.append((linkType, units))
            case 6:  // enhanced packet
                guard bodyEnd - body >= 20 else { throw PacketCaptureError(offset: offset, message: "short packet block") }
                let interface = Int(u32(b, body, little: little))
                guard interface < interfaces.count else { throw PacketCaptureError(offset: offset, message: "packet on undeclared interface \(interface)") }
                let ticks = Int64(u32(b, body + 4, little: little)) << 32 | Int64(u32(b, body + 8, little: little))
                let captured = Int(u32(b, body + 12, little: little))
                guard body + 20 + captured <= bodyEnd else { throw PacketCaptureError(offset: offset, message: "truncated packet data") }
                let units = interfaces[interface].unitsPerSecond
                let micro: Int64
                if units >= 1_000_000 {
                    micro = ticks / (units / 1_000_000)
                } else {
                    let (product, overflow) = ticks.multipliedReportingOverflow(by: 1_000_000 / max(1, units))
                    guard !overflow else { throw PacketCaptureError(offset: offset, message: "timestamp out of range") }
                    micro = product
                }
                out.append(CapturedPacket(timestamp: micro, linkType: interfaces[interface].linkType,
                                          data: Array(b[(body + 20)..<(body + 20 + captured)])))
            default:
                break  // statistics, name resolution, custom blocks
            }
            offset += length
        }
        return out
    }
}

// libFuzzer target: the pcap/pcapng reader and the link-layer and IP splitting behind
// `labctl vrrp decode --pcap`. Any input gives packets or a PacketCaptureError, never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPcap(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let packets = try? PacketCapture.read(bytes) else { return 0 }
    for packet in packets {
        if let ip = packet.ipPacket, let split = VRRPCodec.splitIPPacket(ip) {
            _ = VRRPCodec.decode(split.message, ttl: split.ttl, source: split.source, destination: split.destination)
        }
    }
    return 0
}

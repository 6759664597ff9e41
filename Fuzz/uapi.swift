// libFuzzer target: the UAPI `get=1` and `set=1` reply parsers, and the request encoder on what parses.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUAPI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? UAPIProtocol.parseSetReply(text, device: "wg0")
    if let device = try? UAPIProtocol.parseGetReply(text, device: "wg0") {
        var config = DeviceConfig(listenPort: device.listenPort)
        for p in device.peers {
            config.peers.append(PeerConfig(publicKey: p.publicKey, endpoint: p.endpoint, replaceAllowedIPs: true, allowedIPs: p.allowedIPs))
        }
        _ = UAPIProtocol.setRequest(config)
        _ = ShowFormat.pretty(device, now: 1_700_000_000)
    }
    return 0
}

// libFuzzer target: wg/wg-quick config files (both dialects), wg-quick strip, the `wg set`
// grammar and the showconf renderer on what parses.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWGConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = ConfigFile.strip(text)
    _ = try? ConfigFile.parse(text, file: "fuzz.conf", dialect: .wg)
    if let config = try? ConfigFile.parse(text, file: "fuzz.conf", dialect: .wgQuick) {
        var device = Device(name: "wg0", privateKey: config.interface.privateKey, listenPort: config.interface.listenPort ?? 0)
        for p in config.peers {
            device.peers.append(Peer(publicKey: p.publicKey, presharedKey: p.presharedKey,
                                     endpoint: p.endpoint.flatMap { Endpoint($0) }, allowedIPs: p.allowedIPs))
        }
        let rendered = ConfigFile.render(device)
        guard (try? ConfigFile.parse(rendered, file: "rendered.conf", dialect: .wg)) != nil else {
            fatalError("showconf output does not parse back:\n\(rendered)")
        }
    }
    let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).prefix(64)
    _ = try? SetArguments.parse(Array(words), readKeyFile: { _ in "" }, resolveEndpoint: { text throws(SetArguments.Failure) in
        guard let e = Endpoint(text) else { throw SetArguments.Failure(description: "bad") }
        return e
    })
    return 0
}

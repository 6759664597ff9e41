// libFuzzer target: the decoder of WG_CMD_GET_DEVICE replies (attributes, nesting, peers split
// across messages), whole and streamed into `show dump` text. The input is cut into messages at
// 0xFF 0xFE 0xFD markers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlink(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var decoder = WireGuardDumpDecoder()
    final class Writer { var text = ShowFormat.DumpWriter() }
    let writer = Writer()
    var streaming = WireGuardDumpDecoder { device, peer in writer.text.add(peer, of: device) }
    var start = 0
    var i = 0
    while i <= size {
        if i == size || (i + 2 < size && bytes[i] == 0xFF && bytes[i + 1] == 0xFE && bytes[i + 2] == 0xFD) {
            let message = Array(bytes[start..<i])
            do {
                try message.withUnsafeBytes { raw in
                    try decoder.add(attributes: raw)
                    try streaming.add(attributes: raw)
                }
            } catch {
                return 0
            }
            start = i + 3
            i += 3
            continue
        }
        i += 1
    }
    streaming.finish()
    _ = writer.text.finishInPieces(streaming.device)
    _ = ShowFormat.field("dump", of: decoder.device)
    _ = ConfigFile.render(decoder.device)
    return 0
}

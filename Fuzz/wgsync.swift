// libFuzzer target: the endpoint sync decoder (plaintext) and the sealed-datagram opener.
// What decodes must encode back to the same bytes; opening never traps.
let fuzzKey = EndpointSyncKey(Key(secretBytes: [UInt8](repeating: 0x42, count: 32))!)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEndpointSync(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? fuzzKey.open(bytes)
    if let message = EndpointSyncMessage(decoding: bytes) {
        precondition(message.encoded() == bytes, "decode/encode round trip differs")
        let sealed = fuzzKey.seal(message, nonce: [UInt8](repeating: 9, count: EndpointSyncKey.nonceSize))
        precondition((try? fuzzKey.open(sealed)) == message, "seal/open round trip differs")
    }
    return 0
}

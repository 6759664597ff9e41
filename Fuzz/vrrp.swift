// libFuzzer target: the VRRP decoder and receive filter. The first byte picks the TTL and
// the address family; the rest is the VRRP message. Whatever decodes must encode back to
// a packet that decodes to the same advertisement, and drive the state machine without a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVRRP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let ipv6 = data[0] & 1 == 1
    let source = VRRPAddress(bytes: ipv6 ? [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [1] : [192, 0, 2, 1])!
    let group = VRRPAddress(bytes: ipv6 ? [0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [0x12] : [224, 0, 0, 18])!
    let ttl: UInt8 = data[0] & 2 == 0 ? 255 : 64
    if case .success(let ad) = VRRPCodec.decode(bytes, ttl: ttl, source: source, destination: group) {
        let again = VRRPCodec.encode(ad, source: source, destination: group)
        guard case .success(let back) = VRRPCodec.decode(again, ttl: 255, source: source, destination: group), back == ad else {
            fatalError("re-encoded advertisement does not decode to itself")
        }
    }
    var filter = VRRPReceiveFilter(version: data[0] & 4 == 0 ? .v3 : .v2, virtualRouterID: 52, isIPv6: ipv6,
                                   advertisementInterval: .seconds(1), authenticationType: 1, authenticationData: [1, 2])
    if let ad = filter.accept(bytes, ttl: ttl, source: source, destination: group) {
        // Whatever passes the filter must be safe to feed to the state machine in every state.
        let machine = VRRPStateMachine(config: VRRPRouterConfig(version: filter.version, virtualRouterID: 52, priority: 100,
                                                                primaryAddress: group, virtualAddresses: [source]))
        var state = machine.initialState()
        for (i, event) in [VRRPEvent.startup, .advertisement(ad, source: source), .tick, .advertisement(ad, source: source)].enumerated() {
            (state, _) = machine.step(state, event, now: .seconds(Int64(i) * 4))
        }
    }
    return 0
}

import ArgumentParser
import VRRP
import WGNetlink
#if canImport(Glibc)
import Glibc
#endif

extension Lab {
    /// For the lab's security check: an endpoint update sealed with a key nobody shares.
    struct ForgeSync: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forge-sync",
            abstract: "Send an endpoint sync message sealed with a random key (an attacker's), to show it is refused.",
            shouldDisplay: false)

        @Option(help: "The server to send to.")
        var to: String

        @Option(help: "The sync port.")
        var port: UInt16 = 51821

        @Option(help: "The WireGuard interface named in the message.")
        var interface = "wg1"

        @Option(help: "A peer's public key whose endpoint the message claims (repeatable).")
        var peer: [String]

        @Option(help: "The endpoint the message claims.")
        var endpoint = "[2001:db8:1::99]:1"

        func run() throws {
            guard let destination = VRRPAddress(parsing: to) else { throw LabError("--to \(to): not an address") }
            guard let claimed = Endpoint(endpoint) else { throw LabError("--endpoint \(endpoint): not an endpoint") }
            let peers = try peer.map { text in
                guard let key = Key(base64: text) else { throw LabError("--peer \(text): not a base64 key") }
                return PeerEndpoint(publicKey: key, endpoint: claimed)
            }
            let attackerKey = EndpointSyncKey(KeyGeneration.presharedKey())
            let message = EndpointSyncMessage(interface: interface, counter: wallClockMicroseconds(), peers: peers)
            let socket = try SyncSocket(ipv6: destination.isIPv6, port: 0, interfaceIndex: 0, joinGroup: nil)
            try socket.send(attackerKey.seal(message), to: destination, port: port)
            print("sent a forged endpoint update for \(peers.count) peer(s) to \(destination) port \(port)")
        }
    }
}

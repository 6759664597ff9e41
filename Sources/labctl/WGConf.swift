import ArgumentParser
import WGNetlink

/// The three ways to apply a configuration file.
enum ConfMode: Hashable, Sendable {
    case set, add, sync
}

extension WG {
    struct SetConf: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setconf",
            abstract: "Replace a device's configuration with a wg config file, like wg setconf.",
            discussion: "Example:\n  labctl wg setconf wg0 <(labctl wg strip /etc/wireguard/wg0.conf)")
        @Argument(help: "The interface.") var interface: String
        @Argument(help: "The configuration file ('-' for stdin).") var file: String
        func run() throws { try applyConf(.set, interface: interface, file: file) }
    }

    struct AddConf: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "addconf",
            abstract: "Add a wg config file's peers and settings to a device, like wg addconf.",
            discussion: "Example:\n  labctl wg addconf wg0 new-peers.conf")
        @Argument(help: "The interface.") var interface: String
        @Argument(help: "The configuration file ('-' for stdin).") var file: String
        func run() throws { try applyConf(.add, interface: interface, file: file) }
    }

    struct SyncConf: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "syncconf",
            abstract: "Make a device match a wg config file, removing runtime-only peers, like wg syncconf.",
            discussion: "Example:\n  labctl wg syncconf wg0 <(labctl wg strip wg0.conf)")
        @Argument(help: "The interface.") var interface: String
        @Argument(help: "The configuration file ('-' for stdin).") var file: String
        func run() throws { try applyConf(.sync, interface: interface, file: file) }
    }

    struct Strip: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "strip",
            abstract: "Print a wg-quick file without wg-quick's keys, like wg-quick strip.",
            discussion: "Example:\n  labctl wg strip /etc/wireguard/wg0.conf | labctl wg setconf wg0 -")
        @Argument(help: "The wg-quick configuration file.") var file: String
        func run() throws {
            let text = try WGSupport.readConfig(file)
            do {
                _ = try ConfigFile.parse(text, file: file, dialect: .wgQuick)
            } catch {
                throw LabError(error.description)
            }
            WGSupport.write(ConfigFile.strip(text))
        }
    }
}

/// setconf, addconf and syncconf: parse the whole file first, so a bad line changes nothing.
func applyConf(_ mode: ConfMode, interface: String, file: String) throws {
    var (_, config) = try WGSupport.loadConfig(file, dialect: .wg, replace: mode != .add)
    var client = try WireGuardClient()
    if mode == .sync {
        config.replacePeers = false
        let wanted = Swift.Set(config.peers.map(\.publicKey))
        for peer in try client.device(named: interface).peers where !wanted.contains(peer.publicKey) {
            config.peers.append(PeerConfig(publicKey: peer.publicKey, remove: true))
        }
    }
    try client.configure(interface, config)
}

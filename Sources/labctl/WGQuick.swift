import ArgumentParser
import WGNetlink

extension WG {
    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "up",
            abstract: "Bring up a wg-quick file's interface: link, configuration, addresses, MTU (no routes, DNS or hooks).",
            discussion: """
                The interface is named after the file (wg0.conf makes wg0). Everything is checked before
                the link is created, and the link is deleted again if a later step fails.

                Example:
                  labctl wg up /etc/wireguard/wg0.conf
                """)
        @Argument(help: "The wg-quick configuration file, NAME.conf.") var file: String

        func run() throws {
            let name = String(file.split(separator: "/").last ?? "").replacingSuffix(".conf")
            guard !name.isEmpty, name.utf8.count < 16 else { throw LabError("\(file): the file name must be NAME.conf with NAME an interface name") }
            let (parsed, config) = try WGSupport.loadConfig(file, dialect: .wgQuick, replace: true)
            var links = try NetworkInterfaces()
            try links.createLink(named: name)
            do {
                var client = try WireGuardClient()
                try client.configure(name, config)
                for address in parsed.interface.quick.addresses { try links.addAddress(address, toLink: name) }
                try links.setMTU(parsed.interface.quick.mtu ?? 1420, ofLink: name)
                try links.setLink(named: name, up: true)
            } catch {
                try? links.deleteLink(named: name)
                throw error
            }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "down",
            abstract: "Delete a WireGuard interface, like wg-quick down.",
            discussion: "Example:\n  labctl wg down wg0")
        @Argument(help: "The interface.") var interface: String

        func run() throws {
            var links = try NetworkInterfaces()
            guard try links.links(kind: "wireguard").contains(where: { $0.name == interface }) else {
                throw LabError("\(interface) is not a WireGuard interface")
            }
            try links.deleteLink(named: interface)
        }
    }
}

extension String {
    func replacingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

import ArgumentParser
import WGNetlink

extension WG {
    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change a device with wg set's grammar.",
            discussion: """
                ARGS: [listen-port PORT] [fwmark MARK|off] [private-key FILE]
                      [peer KEY [remove] [update-only] [preshared-key FILE] [endpoint HOST:PORT]
                       [persistent-keepalive SECONDS|off] [allowed-ips IP/CIDR[,IP/CIDR]...]]...
                allowed-ips replaces the peer's list; a list of only +IP/CIDR and -IP/CIDR items adds
                and removes single prefixes. An empty key file (/dev/null) removes the key.

                Examples:
                  labctl wg set wg0 listen-port 51820 private-key /etc/wireguard/private.key
                  labctl wg set wg0 peer XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8= allowed-ips 10.0.0.2/32 endpoint 192.0.2.1:51820
                  labctl wg set wg0 peer XGubrkGtuECdvoykKeUiNMigk2onfLCPfEo9Im+vmx8= remove
                """)

        @Argument(help: "The interface.")
        var interface: String

        @Argument(parsing: .captureForPassthrough, help: "wg set's arguments.")
        var arguments: [String] = []

        func run() throws {
            let config: DeviceConfig
            do {
                config = try SetArguments.parse(arguments, readKeyFile: WGSupport.readKeyFile, resolveEndpoint: WGSupport.resolveEndpoint)
            } catch {
                throw LabError(error.description)
            }
            var client = try WireGuardClient()
            try client.configure(interface, config)
        }
    }
}

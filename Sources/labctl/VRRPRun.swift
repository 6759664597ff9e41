import ArgumentParser
import VRRP
#if canImport(Glibc)
import Glibc
#endif

extension VRRPCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run the VRRP instances of a keepalived.conf until SIGTERM.",
            discussion: """
                The keepalived.conf subset that real setups use is read with keepalived's meanings:
                global_defs, vrrp_script, vrrp_instance and include. Unknown keywords are errors with
                FILE:LINE. On SIGTERM every master sends priority 0 and removes its addresses, and the
                notify scripts run to completion before labctl exits.

                Example:
                  labctl vrrp run -f /etc/keepalived/keepalived.conf --control /run/labctl-vrrp.sock
                """)

        @Option(name: [.customShort("f"), .long], help: "The keepalived.conf to run.")
        var file: String

        @Option(help: "The status socket that 'labctl vrrp status' reads.")
        var control: String = VRRPCommand.defaultControlSocket

        @Flag(help: "Parse and check the configuration, then exit.")
        var check = false

        @Flag(name: .customLong("omit-ipv4-pseudo-header"), help: "For v3 over IPv4, send checksums without the pseudo-header, as some old routers expect.")
        var omitPseudoHeader = false

        func run() throws {
            let config: KeepalivedConfig
            do { config = try KeepalivedConfig.load(file, access: .fileSystem) } catch let error as KeepalivedConfigError {
                throw LabError(error.description)
            }
            let options = VRRPSpeakerOptions(
                controlSocketPath: control,
                log: { line in StandardError.write("labctl vrrp: \(line)\n") },
                ipv4PseudoHeader: omitPseudoHeader ? .omitted : .included)
            let speaker: VRRPSpeaker
            do { speaker = try VRRPSpeaker(config: config, options: options) } catch let error as KeepalivedConfigError {
                throw LabError(error.description)
            }
            if check {
                print("\(file): \(config.instances.count) instance(s), \(config.scripts.count) script(s): OK")
                return
            }
            try speaker.run()
        }
    }
}

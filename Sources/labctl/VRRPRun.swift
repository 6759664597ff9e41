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

                labctl's own `wireguard { interface wg1 … }` block in a vrrp_instance makes the
                speaker drive that WireGuard interface: up with its tunnel addresses and routes on
                MASTER, down otherwise, FAULT when it is missing, keyless or down on the master
                (`address PREFIX` and `route PREFIX` name them; by default, those wg1 has at start).
                With `sync_key FILE`, the master publishes its peers' endpoints to the backup, which
                handshakes with every peer the moment it takes over.

                Example:
                  labctl vrrp run -f /etc/keepalived/keepalived.conf --control /run/labctl-vrrp.sock
                """)

        @Option(name: [.customShort("f"), .long], help: "The keepalived.conf to run.")
        var file: String

        @Option(help: "The status socket that 'labctl vrrp status' reads.")
        var control: String = VRRPCommand.defaultControlSocket

        @Flag(help: "Prefix log lines with seconds since boot, as /proc/uptime counts them.")
        var timestamps = false

        @Flag(help: "Parse and check the configuration, then exit.")
        var check = false

        @Flag(name: .customLong("omit-ipv4-pseudo-header"), help: "For v3 over IPv4, send checksums without the pseudo-header, as some old routers expect.")
        var omitPseudoHeader = false

        func run() throws {
            let config: KeepalivedConfig
            do { config = try KeepalivedConfig.load(file, access: .fileSystem) } catch let error as KeepalivedConfigError {
                throw LabError(error.description)
            }
            let log: @Sendable (String) -> Void = { line in StandardError.write("labctl vrrp: \(timestamp())\(line)\n") }
            var drivers: [WireGuardFailover] = []
            do {
                for instance in config.instances {
                    if let binding = instance.wireGuard {
                        drivers.append(try WireGuardFailover(instance: instance, binding: binding, log: log))
                    }
                }
            } catch let error as KeepalivedConfigError {
                throw LabError(error.description)
            }
            let byInstance = Dictionary(uniqueKeysWithValues: drivers.map { ($0.instance, $0) })
            let options = VRRPSpeakerOptions(
                controlSocketPath: control,
                log: log,
                onTransition: { instance, _, to, now in byInstance[instance]?.transition(to: to, now: now) },
                ipv4PseudoHeader: omitPseudoHeader ? .omitted : .included,
                monitors: drivers.map(\.monitor))
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

        private func timestamp() -> String {
            timestamps ? secondsText(bootSeconds()) + " " : ""
        }
    }
}

import ArgumentParser
import FoundationEssentials
import VRRP
#if canImport(Glibc)
import Glibc
#endif

extension VRRPCommand {
    static let defaultControlSocket = "/run/labctl-vrrp.sock"

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show the state of a running 'labctl vrrp run' through its control socket.",
            discussion: """
                Example:
                  labctl vrrp status --json
                """)

        @Option(help: "The control socket of the running speaker.")
        var control: String = VRRPCommand.defaultControlSocket

        @OptionGroup var output: OutputOptions

        struct Report: Codable {
            struct Instance: Codable {
                let name: String, interface: String, state: String, virtualRouterID: Int, version: Int
                let priority: Int, effectivePriority: Int, advertisementInterval: String, masterAdvertisementInterval: String
                let master: String?, primaryAddress: String, virtualAddresses: [String]
                let advertisementsSent: UInt64, advertisementsReceived: UInt64, transitions: UInt64
                let discarded: [String: UInt64], tracking: [String: Bool?]
            }
            let routerID: String
            let instances: [Instance]
        }

        func run() throws {
            let text = try Self.query(control)
            let report: Report
            do { report = try JSONDecoder().decode(Report.self, from: Data(text)) } catch {
                throw LabError("\(control): unexpected reply from the speaker")
            }
            try output.emit(report) {
                var table = TextTable(header: ["instance", "interface", "vrid", "state", "priority", "master", "addresses", "sent", "received", "discarded"])
                for i in report.instances {
                    let priority = i.effectivePriority == i.priority ? "\(i.priority)" : "\(i.effectivePriority) (base \(i.priority))"
                    table.add([i.name, i.interface, "\(i.virtualRouterID)", i.state, priority, i.master ?? "-",
                               i.virtualAddresses.joined(separator: " "), "\(i.advertisementsSent)", "\(i.advertisementsReceived)",
                               "\(i.discarded.values.reduce(0, +))"])
                }
                print(table.render())
            }
        }

        /// The speaker's status JSON.
        static func query(_ path: String) throws -> [UInt8] {
            do { return try VRRPControlSocket.fetchStatus(path) } catch {
                let reason = String(cString: strerror(error.errno.rawValue))
                throw LabError(error.errno == .fileNameTooLong ? "\(path): path too long" : "\(path): \(reason) (is 'labctl vrrp run' running?)")
            }
        }
    }
}

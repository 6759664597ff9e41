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

        /// Connects, reads the reply to the end.
        static func query(_ path: String) throws -> [UInt8] {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw LabError("\(path): path too long") }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
            let ok = withUnsafeBytes(of: address) { connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }
            guard ok == 0 else {
                throw LabError("\(path): \(String(cString: strerror(errno))) (is 'labctl vrrp run' running?)")
            }
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                out += chunk[0..<n]
            }
            return out
        }
    }
}

import ArgumentParser
import DeviceInfo
import SelfMapPaging
import VRRP
import WGNetlink

struct Lab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "End-to-end labs that exercise every library.",
        discussion: """
            Example:
              labctl lab tour
            """,
        subcommands: [HA.self, Probe.self, Tour.self, ForgeSync.self]
    )

    struct Tour: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tour",
            abstract: "Run one real operation from each module and print the results.",
            discussion: "Example:\n  labctl lab tour")

        func run() throws {
            print("== WGNetlink: a fresh key pair through libsodium")
            let privateKey = KeyGeneration.privateKey()
            print("private key: \(privateKey)  (secret keys never print through description)")
            print("public key:  \(KeyGeneration.publicKey(for: privateKey))")

            print("\n== VRRP: timers for a backup at priority 99, 1 s adverts (RFC 5798 §6.1)")
            let timers = VRRPTimers(priority: 99, advertisementInterval: .seconds(1))
            print("Skew_Time \(timers.skewTime) s, Master_Down_Interval \(timers.masterDownInterval) s")

            print("\n== SelfMapPaging: where x86_64 tables live with PML4[511] pointing to itself")
            let map = try SelfMap(mode: .x86_64)
            for region in map.regions.reversed() {
                print("\(region.name): \(region.first?.hex(digits: 16) ?? "-")")
            }

            print("\n== DeviceInfo: this machine")
            let report = DeviceReport(from: DirectorySource())
            if let u = report.uname.value { print(u.unameAll) }
            if let cpu = report.cpu.value { print("\(cpu.processors.count) × \(cpu.modelName ?? "unknown CPU")") }
            if let m = report.memory.value { print("memory: \(m.totalKiB / 1024) MiB total, \(m.availableKiB / 1024) MiB available") }
        }
    }
}

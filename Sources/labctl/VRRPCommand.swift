import ArgumentParser
import VRRP

struct VRRPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vrrp",
        abstract: "VRRP (RFC 3768, 5798, 9568) tools.",
        discussion: """
            Example:
              labctl vrrp timers --priority 99 --advert-int 1
            """,
        subcommands: [Run.self, Status.self, Timers.self, Decode.self]
    )

    struct Timers: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "timers",
            abstract: "Print Skew_Time, Master_Down_Interval and the takeover bounds.",
            discussion: """
                Example:
                  labctl vrrp timers --priority 100 --advert-int 0.01
                """)

        @Option(help: "Priority of the backup, 1-254 (255 is the address owner).")
        var priority: UInt8 = 100

        @Option(name: .customLong("advert-int"), help: "Advertisement interval in seconds (v3: steps of 0.01 s).")
        var advertInt: String = "1"

        @Option(help: "VRRP version, 2 or 3.")
        var version: Int = 3

        @OptionGroup var output: OutputOptions

        func run() throws {
            guard let version = VRRPVersion(rawValue: version) else { throw LabError("--version must be 2 or 3") }
            guard let centis = Self.centiseconds(advertInt), centis > 0, centis <= 4095 else {
                throw LabError("--advert-int '\(advertInt)' must be 0.01 to 40.95 seconds in steps of 0.01")
            }
            if version == .v2 && centis % 100 != 0 {
                throw LabError("--advert-int '\(advertInt)' must be whole seconds with --version 2")
            }
            let timers = VRRPTimers(version: version, priority: priority, advertisementInterval: .centiseconds(Int64(centis)))
            try output.emit(timers) {
                var table = TextTable(header: ["timer", "seconds"])
                table.add(["Advertisement_Interval", timers.advertisementInterval.description])
                table.add(["Skew_Time", timers.skewTime.description])
                table.add(["Master_Down_Interval", timers.masterDownInterval.description])
                table.add(["takeover after crash, earliest", timers.earliestTakeoverAfterCrash.description])
                table.add(["takeover after crash, latest", timers.latestTakeoverAfterCrash.description])
                table.add(["takeover after priority 0", timers.takeoverAfterShutdown.description])
                print(table.render())
            }
        }

        /// "1", "0.5", "0.01" → centiseconds, exactly.
        static func centiseconds(_ text: String) -> Int? {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, let whole = Int(parts[0].isEmpty ? "0" : parts[0]), whole >= 0 else { return nil }
            var frac = 0
            if parts.count == 2 {
                let f = parts[1]
                guard f.count >= 1, f.count <= 2, f.allSatisfy(\.isNumber), let v = Int(f) else { return nil }
                frac = f.count == 1 ? v * 10 : v
            }
            return whole * 100 + frac
        }
    }
}

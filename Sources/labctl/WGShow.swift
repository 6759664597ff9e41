import ArgumentParser
import WGNetlink
#if canImport(Glibc)
import Glibc
#endif

extension WG {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show devices like wg show: all, one, a single field, or a dump.",
            discussion: """
                FIELD is one of: \(ShowFormat.fields.joined(separator: ", ")).
                The output of a FIELD and of dump is byte for byte that of wg.

                Examples:
                  labctl wg show
                  labctl wg show wg0 dump
                  labctl wg show all endpoints
                  labctl wg show interfaces
                  labctl wg show wg0 --json
                """)

        @Argument(help: "An interface, 'all' or 'interfaces'.")
        var interface: String = "all"

        @Argument(help: "A single field, or 'dump'.")
        var field: String?

        @OptionGroup var output: OutputOptions

        func run() throws { try WG.show(interface: interface, field: field, json: output.json) }
    }

    struct ShowConf: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "showconf",
            abstract: "Print a device's configuration in wg's config file format, like wg showconf.",
            discussion: "Example:\n  labctl wg showconf wg0 > wg0.conf")

        @Argument(help: "The interface.")
        var interface: String

        func run() throws { try WG.showConf(interface) }
    }
}

extension WG {
    /// `labctl wg show [IFACE [FIELD]]`.
    static func show(interface: String, field: String?, json: Bool) throws {
        var client = try WireGuardClient()
        if interface == "interfaces" {
            guard field == nil else { throw LabError("'interfaces' takes no field") }
            let names = try client.deviceNames()
            if json { try JSONOutput.print(names) } else { print(names.joined(separator: " ")) }
            return
        }
        if let field, !ShowFormat.fields.contains(field) {
            throw LabError("unknown field '\(field)'; one of \(ShowFormat.fields.joined(separator: ", "))")
        }
        let names = interface == "all" ? try client.deviceNames() : [interface]
        if field == "dump" && !json {  // formatted as the kernel's dump arrives
            for name in names {
                for piece in try client.dump(named: name, prefixInterface: interface == "all", scopeName: WGSupport.scopeName) {
                    try StandardOutput.write(piece)
                }
            }
            return
        }
        var devices: [WGNetlink.Device] = []
        for name in names { devices.append(try client.device(named: name)) }
        if json {
            try JSONOutput.print(interface == "all" ? devices.map(DeviceJSON.init) : [DeviceJSON(device: devices[0])])
            return
        }
        if let field {
            for device in devices {
                WGSupport.write(ShowFormat.field(field, of: device, prefixInterface: interface == "all", scopeName: WGSupport.scopeName)!)
            }
        } else {
            let now = Int64(time(nil))
            WGSupport.write(devices.map { ShowFormat.pretty($0, now: now, scopeName: WGSupport.scopeName) }.joined(separator: "\n"))
        }
    }

    /// `labctl wg showconf IFACE`.
    static func showConf(_ interface: String) throws {
        var client = try WireGuardClient()
        WGSupport.write(ConfigFile.render(try client.device(named: interface), scopeName: WGSupport.scopeName))
    }
}

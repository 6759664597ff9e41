import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

@main
struct LabCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labctl",
        abstract: "WireGuard, VRRP, x86 paging and device facts from one tool.",
        discussion: """
            Examples:
              labctl wg genkey | tee private.key | labctl wg pubkey
              labctl vrrp timers --priority 100 --advert-int 1
              labctl paging addresses --mode x86_64
              labctl device --json
              labctl lab tour

            Shell completions: labctl --generate-completion-script bash|zsh|fish
            """,
        version: "0.1.0",
        subcommands: [WG.self, VRRPCommand.self, Paging.self, Device.self, Lab.self]
    )

    /// Runs the command and reports any failure as one line, `labctl: error: …`, on stderr.
    static func main() {
        do {
            if let quick = QuickStart(arguments: Array(CommandLine.arguments.dropFirst())) {
                try quick.run()
            } else {
                var command = try parseAsRoot()
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)  // --help, --version, completion scripts
            }
            var message = (error as? LabError)?.description ?? message(for: error)
            if message.isEmpty { message = String(describing: error) }
            let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: "; ")
            StandardError.write("labctl: error: \(oneLine)\n")
            Glibc.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

/// An error that labctl reports as is.
struct LabError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

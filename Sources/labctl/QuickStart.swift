import ArgumentParser

/// A start-up path for the commands that scripts run in loops: `device [report|cpu]`, `wg show`,
/// `wg showconf` and `wg setconf|addconf|syncconf`. swift-argument-parser reflects over the whole
/// command tree before it parses anything, which costs more than these commands' own work
/// (BENCHMARKS.md). This path takes only the plain spellings of those commands and returns nil
/// for anything else (help, `--version`, errors, any other command or option), which then goes
/// to the full parser. So it never parses differently; `QuickStartTests` checks that against the
/// full parser.
enum QuickStart: Hashable, Sendable {
    case deviceReport(DeviceSourceChoice, json: Bool)
    case deviceCPU(DeviceSourceChoice, json: Bool)
    case wgShow(interface: String, field: String?, json: Bool)
    case wgShowConf(interface: String)
    case wgConf(ConfMode, interface: String, file: String)

    /// The command, if `arguments` (without the program name) is one this path takes.
    init?(arguments: [String]) {
        guard let command = arguments.first, !arguments.contains(where: { $0.isEmpty || $0 == "help" }) else { return nil }
        // A subcommand comes right after its parent, before any option.
        let subcommand = arguments.count > 1 ? arguments[1] : ""
        switch command {
        case "device":
            let named = subcommand == "report" || subcommand == "cpu"
            let rest = Options(arguments.dropFirst(named ? 2 : 1))
            guard rest.taken, rest.positional.isEmpty else { return nil }
            self = subcommand == "cpu" ? .deviceCPU(rest.source, json: rest.json) : .deviceReport(rest.source, json: rest.json)
        case "wg":
            let rest = Options(arguments.dropFirst(2))
            let operands = rest.positional
            guard rest.taken, rest.source == DeviceSourceChoice() else { return nil }
            if subcommand == "show", operands.count <= 2 {
                self = .wgShow(interface: operands.first ?? "all", field: operands.count > 1 ? operands[1] : nil, json: rest.json)
            } else if subcommand == "showconf", operands.count == 1, !rest.json {
                self = .wgShowConf(interface: operands[0])
            } else if let mode = Self.confMode(subcommand), operands.count == 2, !rest.json {
                self = .wgConf(mode, interface: operands[0], file: operands[1])
            } else {
                return nil
            }
        default:
            return nil
        }
    }

    /// The same command from the full parser's result, or nil if it is another one.
    init?(parsed: any ParsableCommand) {
        switch parsed {
        case let c as Device.Report: self = .deviceReport(c.source.choice, json: c.output.json)
        case let c as Device.CPU: self = .deviceCPU(c.source.choice, json: c.output.json)
        case let c as WG.Show: self = .wgShow(interface: c.interface, field: c.field, json: c.output.json)
        case let c as WG.ShowConf: self = .wgShowConf(interface: c.interface)
        case let c as WG.SetConf: self = .wgConf(.set, interface: c.interface, file: c.file)
        case let c as WG.AddConf: self = .wgConf(.add, interface: c.interface, file: c.file)
        case let c as WG.SyncConf: self = .wgConf(.sync, interface: c.interface, file: c.file)
        default: return nil
        }
    }

    func run() throws {
        switch self {
        case .deviceReport(let source, let json): try Device.report(source, json: json)
        case .deviceCPU(let source, let json): try Device.cpu(source, json: json)
        case .wgShow(let interface, let field, let json): try WG.show(interface: interface, field: field, json: json)
        case .wgShowConf(let interface): try WG.showConf(interface)
        case .wgConf(let mode, let interface, let file): try applyConf(mode, interface: interface, file: file)
        }
    }

    /// A switch, not a `[String: ConfMode]`: a dictionary's first use checks `String: Hashable`
    /// by scanning every protocol conformance in the program.
    private static func confMode(_ subcommand: String) -> ConfMode? {
        switch subcommand {
        case "setconf": .set
        case "addconf": .add
        case "syncconf": .sync
        default: nil
        }
    }

    /// The words after the command: positionals, `--json`, and `--root|--dump|--example VALUE`
    /// (or `=VALUE`). Anything else starting with '-', a repeated option, or an option without a
    /// value marks the whole line as not taken.
    private struct Options {
        var positional: [String] = []
        var json = false
        var source = DeviceSourceChoice()
        var taken = true

        init(_ words: ArraySlice<String>) {
            var words = words
            while taken, let word = words.popFirst() {
                guard word.hasPrefix("-") else { positional.append(word); continue }
                if word == "--json" {
                    taken = !json
                    json = true
                    continue
                }
                var name = word
                var value: String?
                if let equals = word.firstIndex(of: "=") {
                    name = String(word[..<equals])
                    value = String(word[word.index(after: equals)...])
                } else {
                    value = words.popFirst()
                }
                guard let value, !value.isEmpty, !value.hasPrefix("-") else { taken = false; continue }
                taken = source.set(option: name, to: value)
            }
        }
    }
}

private extension DeviceSourceChoice {
    /// Sets the source that `option` names, if it is one and not set yet. A switch, not a
    /// `WritableKeyPath`: instantiating a key path at run time cost more than this whole parse.
    mutating func set(option: String, to value: String) -> Bool {
        switch option {
        case "--root" where root == nil: root = value
        case "--dump" where dump == nil: dump = value
        case "--example" where example == nil: example = value
        default: return false
        }
        return true
    }
}

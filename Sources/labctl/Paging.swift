import ArgumentParser
import SelfMapPaging

extension PagingMode: ExpressibleByArgument {}

struct Paging: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paging",
        abstract: "x86 self-referencing page tables: addresses, walks, a simulated kernel, QEMU images and benchmarks.",
        discussion: """
            Examples:
              labctl paging addresses --mode x86_64
              labctl paging addresses --mode pae --json
              labctl paging walk 0xFFFF800000001000 --mode x86_64
              labctl paging sim Examples/paging/fork.sim
            """,
        subcommands: [Addresses.self, Walk.self, Sim.self, Image.self, Bench.self]
    )

    struct ModeOptions: ParsableArguments {
        @Option(help: "Paging mode: i386, pae, x86_64 or la57.")
        var mode: PagingMode = .x86_64

        @Option(help: "Self-reference slot (default: the last root entry; PAE: global PDE number, default 2044).")
        var index: Int?

        func selfMap() throws -> SelfMap {
            do { return try SelfMap(mode: mode, index: index) } catch { throw LabError(error.description) }
        }

        var hexDigits: Int { mode == .i386 || mode == .pae ? 8 : 16 }
    }

    struct Addresses: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "addresses",
            abstract: "Print the virtual addresses of every self-mapped table level (Table 1 of the paper).",
            discussion: "Example:\n  labctl paging addresses --mode la57 --index 256")

        @OptionGroup var modeOptions: ModeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let map = try modeOptions.selfMap()
            try output.emit(map.regionsReport) {
                print("mode \(map.mode.rawValue), \(map.describeSlot)")
                var table = TextTable(header: ["level", "table", "first", "last", "tables", "region"])
                for r in map.regions.reversed() {
                    table.add([
                        String(r.level), r.name,
                        r.first?.hex(digits: modeOptions.hexDigits) ?? "not self-mapped",
                        r.last?.hex(digits: modeOptions.hexDigits) ?? "-",
                        String(r.tableCount), r.first == nil ? "-" : ByteCount(r.regionBytes).description,
                    ])
                }
                print(table.render())
                if map.mode == .pae {
                    print("The 32-byte PDPT cannot map itself; the four PDs are mapped by four PDEs instead.")
                }
            }
        }
    }

    struct Walk: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "walk",
            abstract: "Print the index at each level for VA and the self-mapped address of each entry.",
            discussion: "Example:\n  labctl paging walk 0xC0001000 --mode i386")

        @Argument(help: "Virtual address (hex with 0x, or decimal).")
        var address: String

        @OptionGroup var modeOptions: ModeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let map = try modeOptions.selfMap()
            guard let va = parseAddress(address) else { throw LabError("'\(address)' is not an address") }
            var steps: [WalkStep] = []
            do {
                for level in (1...map.mode.levels).reversed() {
                    steps.append(WalkStep(
                        level: level, table: map.mode.tableName(atLevel: level),
                        index: try map.index(of: va, atLevel: level),
                        tableAddress: try map.tableAddress(covering: va, level: level),
                        entryAddress: try map.entryAddress(covering: va, level: level)))
                }
            } catch {
                throw LabError(error.description)
            }
            try output.emit(steps) {
                var table = TextTable(header: ["level", "table", "index", "table address", "entry address"])
                for s in steps {
                    table.add([String(s.level), s.table, String(s.index),
                               s.tableAddress?.hex(digits: modeOptions.hexDigits) ?? "not self-mapped",
                               s.entryAddress?.hex(digits: modeOptions.hexDigits) ?? "-"])
                }
                print(table.render())
            }
        }
    }
}

struct WalkStep: Encodable {
    let level: Int
    let table: String
    let index: Int
    let tableAddress: VirtualAddress?
    let entryAddress: VirtualAddress?
}

struct RegionsReport: Encodable {
    let mode: PagingMode
    let index: Int
    let regions: [SelfMap.Region]
}

extension SelfMap {
    var regionsReport: RegionsReport { RegionsReport(mode: mode, index: index, regions: regions) }

    var describeSlot: String {
        switch mode {
        case .pae: "page directories mapped by PDPT[\(index / 512)] PD entries \(index % 512)...\(index % 512 + 3)"
        default: "self-reference at \(mode.tableName(atLevel: mode.levels))[\(index)]"
        }
    }
}

/// Parses `0x…` hex or decimal; `_` separators are allowed.
func parseAddress(_ text: String) -> UInt64? {
    let t = text.filter { $0 != "_" }
    if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt64(t.dropFirst(2), radix: 16) }
    return UInt64(t)
}

/// Bytes as KiB/MiB/GiB/TiB when exact.
struct ByteCount: CustomStringConvertible {
    let bytes: UInt64
    init(_ bytes: UInt64) { self.bytes = bytes }
    var description: String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = bytes, i = 0
        while v >= 1024 && v % 1024 == 0 && i < units.count - 1 { v /= 1024; i += 1 }
        return "\(v) \(units[i])"
    }
}

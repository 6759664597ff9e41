import ArgumentParser
import SelfMapPaging

extension Paging {
    struct Image: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "image",
            abstract: "Write a multiboot image that installs the library's tables, enables paging and halts.",
            discussion: """
                The image loads the tables at their physical addresses (RAM from 2 MiB), maps its code
                page 0x100000 to itself, turns paging on in the chosen mode, prints OK on COM1 and halts.
                Compare QEMU's view with the library's:
                  qemu-system-x86_64 -accel tcg -cpu max -kernel guest.elf -monitor stdio -display none
                  (qemu) gva2gpa 0xFFFFFFFFFFFFF000

                Each --map is VA=PA[:FLAGS], FLAGS joined by | from P RW US PWT PCD A D G NX COW and a
                page size 4K (default), 2M, 4M or 1G. PA must lie outside the simulated RAM
                (0x200000-0x1200000), which belongs to the frame allocator.

                Examples:
                  labctl paging image --mode x86_64 --map 0x400000=0xFEE00000:RW|US -o guest.elf
                  labctl paging image --mode pae --map 0x40000000=0x80000000:RW|2M -o guest.elf
                """)

        @OptionGroup var modeOptions: Paging.ModeOptions

        @Option(name: .customLong("map"), help: "VA=PA[:FLAGS] (repeatable).")
        var maps: [String] = []

        @Option(name: .shortAndLong, help: "The ELF file to write.")
        var output: String

        func run() throws {
            var machine = try modeOptions.machine()
            for spec in maps { try MapSpec(parsing: spec).apply(to: &machine) }
            do { try MultibootImage.identityMapCode(in: &machine) } catch { throw LabError("code page: \(error)") }
            let bytes: [UInt8]
            do { bytes = try MultibootImage.build(machine) } catch { throw LabError("\(error)") }
            try SecretFile.write(bytes, to: output, permissions: 0o644)
            let accounting = machine.frames.accounting
            print("\(output): \(machine.mode.rawValue), CR3 0x\(String(machine.current.root.address, radix: 16, uppercase: true)), \(accounting.tables) tables, \(bytes.count) bytes")
        }
    }
}

/// One `--map VA=PA[:FLAGS]`.
struct MapSpec {
    var virtualAddress: UInt64
    var physicalAddress: UInt64
    var flags: EntryFlags = [.writable]
    var size: PageSize = .size4KiB

    init(parsing text: String) throws {
        let halves = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard halves.count == 2, let va = parseAddress(halves[0]) else { throw LabError("--map '\(text)': expected VA=PA[:FLAGS]") }
        let right = halves[1].split(separator: ":", maxSplits: 1).map(String.init)
        guard let pa = parseAddress(right[0]) else { throw LabError("--map '\(text)': '\(right[0])' is not an address") }
        virtualAddress = va
        physicalAddress = pa
        guard right.count == 2 else { return }
        guard let parsed = EntryFlags.parse(flagsAndSize: right[1]) else {
            throw LabError("--map '\(text)': unknown flag in '\(right[1])' (known: \(EntryFlags.names.map(\.1).joined(separator: " ")), and one of 4K 2M 4M 1G)")
        }
        flags = parsed.flags ?? flags
        size = parsed.size ?? size
    }

    func apply(to machine: inout Machine) throws {
        do { try machine.map(virtualAddress, to: physicalAddress, size: size, flags: flags) } catch {
            throw LabError("--map 0x\(String(virtualAddress, radix: 16))=0x\(String(physicalAddress, radix: 16)): \(error)")
        }
    }
}

extension Paging.ModeOptions {
    /// A machine in this mode with this self-map index (RAM: 16 MiB from 2 MiB).
    func machine(frames: Int = 4096) throws -> Machine {
        do { return try Machine(mode: mode, selfMapIndex: index, frameCount: frames) } catch { throw LabError("\(error)") }
    }
}

import Testing
@testable import SelfMapPaging

@Suite("paging sim scripts: parsing")
struct SimulationScriptTests {
    @Test func settingsOverrideTheDefaultsAndEveryCommandParses() throws {
        let script = try SimulationScript(parsing: """
            # settings first
            mode pae
            index 2040
            frames 0x400
            tlb 0
            stlb 512
            map 0xC0000000 0xF0000000 RW|2M pages 2
            map 0x1000 0xE000_0000 RW,US,NX onfault   # a comment
            unmap 0x1000
            unmap 0xC0000000 pages 2
            protect 0x1000 +NX -RW
            touch 0x2000 write kernel
            touch 0x3000 exec
            load 0x2000 expect 7
            store 0x2000 0x7
            translate 0x2000 expect unmapped
            translate 0x2000 expect 0x5000
            fork child-1 eager
            !switch child-1
            ! kill child-1
            invlpg 0x2000
            flush global
            flush
            invalidation off
            accounting
            audit
            """, file: "s.sim")
        #expect(script.settings == .init(mode: .pae, selfMapIndex: 2040, frames: 1024, tlbCapacity: 0, secondLevelTLBCapacity: 512))
        #expect(script.steps.count == 20)
        #expect(script.steps[0].command == .map(virtualAddress: 0xC000_0000, physicalAddress: 0xF000_0000, size: .size2MiB,
                                                flags: [.writable], count: 2, tables: .topDown))
        #expect(script.steps[1].command == .map(virtualAddress: 0x1000, physicalAddress: 0xE000_0000, size: .size4KiB,
                                                flags: [.writable, .user, .noExecute], count: 1, tables: .onFault))
        #expect(script.steps[1].line == 8 && script.steps[1].text == "map 0x1000 0xE000_0000 RW,US,NX onfault")
        #expect(script.steps[4].command == .protect(virtualAddress: 0x1000, set: [.noExecute], clear: [.writable]))
        #expect(script.steps[5].command == .touch(virtualAddress: 0x2000, access: Access(write: true, user: false)))
        #expect(script.steps[6].command == .touch(virtualAddress: 0x3000, access: Access(user: true, execute: true)))
        #expect(script.steps[9].command == .translate(virtualAddress: 0x2000, expected: .some(nil)))
        #expect(script.steps[10].command == .translate(virtualAddress: 0x2000, expected: 0x5000))
        #expect(script.steps[11].command == .fork(name: "child-1", strategy: .eager))
        #expect(script.steps[12].mustFail && script.steps[13].mustFail && !script.steps[11].mustFail)
        #expect(script.steps[14].command == .invalidatePage(virtualAddress: 0x2000))
        #expect(script.steps[15].command == .flush(includingGlobal: true))
    }

    @Test("a size alone keeps the default flags; flags alone keep 4 KiB")
    func flagsAndSize() throws {
        let script = try SimulationScript(parsing: "map 0x200000 0x4000_0000 2M\nmap 0x1000 0x1000 US", file: "f")
        #expect(script.steps.map(\.command) == [
            .map(virtualAddress: 0x20_0000, physicalAddress: 0x4000_0000, size: .size2MiB, flags: [.writable], count: 1, tables: .topDown),
            .map(virtualAddress: 0x1000, physicalAddress: 0x1000, size: .size4KiB, flags: [.user], count: 1, tables: .topDown),
        ])
    }

    @Test("errors are one line with file:line and name the offending text", arguments: [
        ("map 0x1000", "s.sim:1: expected a physical address after 'map 0x1000'"),
        ("\n\nmap 0x1000 0x2000 RW|XX", "s.sim:3: 'RW|XX' is not flags"),
        ("map 0x1000 0x2000 2M|1G", "s.sim:1: '2M|1G' is not flags"),
        ("map 0x1000 0x2000 pages 0", "s.sim:1: '0' is not a page count in 1...1048576"),
        ("unmap 0x1000 8", "s.sim:1: expected 'pages', found '8'"),
        ("touch 0x1000 sideways", "s.sim:1: 'sideways' is not read, write, exec, user or kernel"),
        ("protect 0x1000", "s.sim:1: expected +FLAG or -FLAG after the address"),
        ("protect 0x1000 RW", "s.sim:1: 'RW' is not +FLAG or -FLAG"),
        ("map 0x1000 0x2000\nmode i386", "s.sim:2: 'mode' must come before the first operation"),
        ("mode sparc", "s.sim:1: unknown mode 'sparc'"),
        ("frames 4", "s.sim:1: '4' is not a number of frames in 8...4194304"),
        ("tlb 48", "s.sim:1: a TLB holds a power of two of entries, not 48"),
        ("! frames 16", "s.sim:1: '!' applies to operations, not to 'frames'"),
        ("!", "s.sim:1: '!' needs a command after it"),
        ("fork a/b", "s.sim:1: 'a/b' is not a name"),
        ("fork a b", "s.sim:1: 'b' is not eager or cow"),
        ("translate 0x1000 expect", "s.sim:1: expected a physical address or 'unmapped' after 'translate 0x1000 expect'"),
        ("load 0x_1", "s.sim:1: '0x_1' is not a virtual address"),
        ("load 1_", "s.sim:1: '1_' is not a virtual address"),
        ("load 0x10000000000000000", "s.sim:1: '0x10000000000000000' is not a virtual address"),
        ("audit now", "s.sim:1: unexpected 'now'"),
        ("mmap 0x1000", "s.sim:1: unknown command 'mmap'"),
    ])
    func errors(text: String, expected: String) {
        do {
            _ = try SimulationScript(parsing: text, file: "s.sim")
            Issue.record("no error for \(text)")
        } catch {
            #expect(error.description.hasPrefix(expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }
}

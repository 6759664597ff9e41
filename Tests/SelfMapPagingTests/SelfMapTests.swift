import Testing
@testable import SelfMapPaging

struct SelfMapTests {
    /// Table 1 of "Self-referencing Page Tables for the x86-Architecture", PML4[511].
    @Test func paperTable1ForX86_64() throws {
        let map = try SelfMap(mode: .x86_64)
        let first = map.regions.map { $0.first?.raw }
        #expect(first == [0xFFFF_FF80_0000_0000, 0xFFFF_FFFF_C000_0000, 0xFFFF_FFFF_FFE0_0000, 0xFFFF_FFFF_FFFF_F000])
        #expect(map.regions[0].regionBytes == 512 << 30)
    }

    @Test func i386WithTheLastSlot() throws {
        let map = try SelfMap(mode: .i386)
        #expect(map.regions.map { $0.first?.raw } == [0xFFC0_0000, 0xFFFF_F000])
        #expect(map.regions[0].regionBytes == 4 << 20)
        // The PTE for 0xC0001000 is entry 1 of the PGT at 0xFFF00000.
        #expect(try map.entryAddress(covering: 0xC000_1000, level: 1)?.raw == 0xFFF0_0004)
        #expect(try map.entryAddress(covering: 0xC000_1000, level: 2)?.raw == 0xFFFF_FC00)
    }

    @Test func la57UsesFiftySevenBits() throws {
        let map = try SelfMap(mode: .la57)
        #expect(map.regions.map { $0.first?.raw } == [
            0xFFFF_0000_0000_0000, 0xFFFF_FF80_0000_0000, 0xFFFF_FFFF_C000_0000, 0xFFFF_FFFF_FFE0_0000, 0xFFFF_FFFF_FFFF_F000,
        ])
    }

    @Test func paeMapsFourPageDirectoriesInTheTop8MiB() throws {
        let map = try SelfMap(mode: .pae)
        #expect(try map.tableAddress(covering: 0, level: 1)?.raw == 0xFF80_0000)
        #expect(try map.tableAddress(covering: 0xFFFF_FFFF, level: 1)?.raw == 0xFFFF_F000)
        #expect(try map.tableAddress(covering: 0, level: 2)?.raw == 0xFFFF_C000)
        #expect(try map.tableAddress(covering: 0xC000_0000, level: 2)?.raw == 0xFFFF_F000)
        #expect(try map.tableAddress(covering: 0, level: 3) == nil)
    }

    @Test func paeWindowsLayout() throws {
        // Windows (PAE) keeps PTEs at 0xC0000000 and PDEs at 0xC0600000: global PDE 1536.
        let map = try SelfMap(mode: .pae, index: 1536)
        #expect(try map.tableAddress(covering: 0, level: 1)?.raw == 0xC000_0000)
        #expect(try map.tableAddress(covering: 0, level: 2)?.raw == 0xC060_0000)
        #expect(try map.tableAddress(covering: 0xC000_0000, level: 2)?.raw == 0xC060_3000)
    }

    /// eduOS shifted the sign-extended address, so upper-half PTEs landed at the wrong place.
    @Test func upperHalfAddressesUseTheCanonicalBits() throws {
        let map = try SelfMap(mode: .x86_64)
        let va: UInt64 = 0xFFFF_8000_0000_1000
        #expect(try map.index(of: va, atLevel: 4) == 256)
        #expect(try map.entryAddress(covering: va, level: 1)?.raw == 0xFFFF_FFC0_0000_0008)
        #expect(try map.entryAddress(covering: va, level: 4)?.raw == 0xFFFF_FFFF_FFFF_F800)
    }

    @Test func nonCanonicalAndOutOfRangeAddressesAreErrors() throws {
        let long = try SelfMap(mode: .x86_64)
        #expect(throws: AddressError.nonCanonical(0x0000_8000_0000_0000, .x86_64)) {
            try long.tableAddress(covering: 0x0000_8000_0000_0000, level: 1)
        }
        let legacy = try SelfMap(mode: .i386)
        #expect(throws: AddressError.outOfRange(0x1_0000_0000, .i386)) {
            try legacy.tableAddress(covering: 0x1_0000_0000, level: 1)
        }
    }

    @Test func invalidIndexesAreRejected() {
        #expect(throws: AddressError.self) { try SelfMap(mode: .x86_64, index: 512) }
        #expect(throws: AddressError.self) { try SelfMap(mode: .i386, index: -1) }
        #expect(throws: AddressError.self) { try SelfMap(mode: .pae, index: 2045) }
        #expect(throws: AddressError.self) { try SelfMap(mode: .pae, index: 2048) }
    }

    /// The defining property of a self-map: the entry that maps the level-k entry of VA
    /// is the level-(k+1) entry of VA.
    @Test(arguments: PagingMode.allCases)
    func entryOfAnEntryIsTheNextLevelsEntry(mode: PagingMode) throws {
        var rng = SplitMix64(seed: 42)
        for index in [mode.defaultSelfMapIndex, mode == .pae ? 1536 : 256, 0] {
            let map = try SelfMap(mode: mode, index: index)
            let topLevel = mode == .pae ? 2 : mode.levels
            for _ in 0..<500 {
                let va = map.canonical(rng.next() & ((1 << UInt64(mode.virtualAddressBits)) - 1))
                for level in 1..<topLevel {
                    let entry = try #require(try map.entryAddress(covering: va, level: level))
                    #expect(try map.entryAddress(covering: entry.raw, level: 1) == map.entryAddress(covering: va, level: level + 1))
                }
            }
        }
    }
}

/// ARM implementer and part numbers (MIDR fields), at least the set lscpu decodes.
enum ARMCPUTable {
    struct Implementer {
        let name: String
        let parts: [Int: String]
    }

    static func implementer(_ id: Int) -> Implementer? { implementers[id] }

    static let implementers: [Int: Implementer] = [
        0x41: Implementer(name: "ARM", parts: [
            0x810: "ARM810", 0x920: "ARM920", 0x922: "ARM922", 0x926: "ARM926", 0x940: "ARM940", 0x946: "ARM946",
            0x966: "ARM966", 0xa20: "ARM1020", 0xa22: "ARM1022", 0xa26: "ARM1026", 0xb02: "ARM11 MPCore",
            0xb36: "ARM1136", 0xb56: "ARM1156", 0xb76: "ARM1176", 0xc05: "Cortex-A5", 0xc07: "Cortex-A7",
            0xc08: "Cortex-A8", 0xc09: "Cortex-A9", 0xc0d: "Cortex-A17", 0xc0f: "Cortex-A15", 0xc0e: "Cortex-A17",
            0xc14: "Cortex-R4", 0xc15: "Cortex-R5", 0xc17: "Cortex-R7", 0xc18: "Cortex-R8", 0xc20: "Cortex-M0",
            0xc21: "Cortex-M1", 0xc23: "Cortex-M3", 0xc24: "Cortex-M4", 0xc27: "Cortex-M7", 0xc60: "Cortex-M0+",
            0xd01: "Cortex-A32", 0xd02: "Cortex-A34", 0xd03: "Cortex-A53", 0xd04: "Cortex-A35", 0xd05: "Cortex-A55",
            0xd06: "Cortex-A65", 0xd07: "Cortex-A57", 0xd08: "Cortex-A72", 0xd09: "Cortex-A73", 0xd0a: "Cortex-A75",
            0xd0b: "Cortex-A76", 0xd0c: "Neoverse-N1", 0xd0d: "Cortex-A77", 0xd0e: "Cortex-A76AE",
            0xd13: "Cortex-R52", 0xd15: "Cortex-R82", 0xd20: "Cortex-M23", 0xd21: "Cortex-M33",
            0xd40: "Neoverse-V1", 0xd41: "Cortex-A78", 0xd42: "Cortex-A78AE", 0xd43: "Cortex-A65AE",
            0xd44: "Cortex-X1", 0xd46: "Cortex-A510", 0xd47: "Cortex-A710", 0xd48: "Cortex-X2",
            0xd49: "Neoverse-N2", 0xd4a: "Neoverse-E1", 0xd4b: "Cortex-A78C", 0xd4c: "Cortex-X1C",
            0xd4d: "Cortex-A715", 0xd4e: "Cortex-X3", 0xd4f: "Neoverse-V2",
        ]),
        0x42: Implementer(name: "Broadcom", parts: [0x0f: "Brahma-B15", 0x100: "Brahma-B53", 0x516: "ThunderX2"]),
        0x43: Implementer(name: "Cavium", parts: [
            0x0a0: "ThunderX", 0x0a1: "ThunderX-88XX", 0x0a2: "ThunderX-81XX", 0x0a3: "ThunderX-83XX",
            0x0af: "ThunderX2-99xx", 0x0b0: "OcteonTX2", 0x0b1: "OcteonTX2-98XX", 0x0b2: "OcteonTX2-96XX",
            0x0b3: "OcteonTX2-95XX", 0x0b4: "OcteonTX2-95XXN", 0x0b5: "OcteonTX2-95XXMM", 0x0b6: "OcteonTX2-95XXO",
            0x0b8: "ThunderX3-T110",
        ]),
        0x44: Implementer(name: "DEC", parts: [0xa10: "SA110", 0xa11: "SA1100"]),
        0x46: Implementer(name: "FUJITSU", parts: [0x001: "A64FX"]),
        0x48: Implementer(name: "HiSilicon", parts: [0xd01: "Kunpeng-920", 0xd40: "Cortex-A76"]),
        0x49: Implementer(name: "Infineon", parts: [:]),
        0x4d: Implementer(name: "Motorola/Freescale", parts: [:]),
        0x4e: Implementer(name: "NVIDIA", parts: [0x000: "Denver", 0x003: "Denver 2", 0x004: "Carmel"]),
        0x50: Implementer(name: "APM", parts: [0x000: "X-Gene"]),
        0x51: Implementer(name: "Qualcomm", parts: [
            0x00f: "Scorpion", 0x02d: "Scorpion", 0x04d: "Krait", 0x06f: "Krait", 0x201: "Kryo", 0x205: "Kryo",
            0x211: "Kryo", 0x800: "Falkor-V1/Kryo", 0x801: "Kryo-V2", 0x802: "Kryo-3XX-Gold",
            0x803: "Kryo-3XX-Silver", 0x804: "Kryo-4XX-Gold", 0x805: "Kryo-4XX-Silver", 0xc00: "Falkor",
            0xc01: "Saphira",
        ]),
        0x53: Implementer(name: "Samsung", parts: [0x001: "exynos-m1", 0x002: "exynos-m3", 0x003: "exynos-m4", 0x004: "exynos-m5"]),
        0x56: Implementer(name: "Marvell", parts: [0x131: "Feroceon-88FR131", 0x581: "PJ4/PJ4b", 0x584: "PJ4B-MP"]),
        0x61: Implementer(name: "Apple", parts: [
            0x020: "Icestorm-A14", 0x021: "Firestorm-A14", 0x022: "Icestorm-M1", 0x023: "Firestorm-M1",
            0x024: "Icestorm-M1-Pro", 0x025: "Firestorm-M1-Pro", 0x028: "Icestorm-M1-Max", 0x029: "Firestorm-M1-Max",
            0x030: "Blizzard-A15", 0x031: "Avalanche-A15", 0x032: "Blizzard-M2", 0x033: "Avalanche-M2",
        ]),
        0x66: Implementer(name: "Faraday", parts: [0x526: "FA526", 0x626: "FA626"]),
        0x69: Implementer(name: "Intel", parts: [
            0x200: "i80200", 0x210: "PXA250A", 0x212: "PXA210A", 0x242: "i80321-400", 0x243: "i80321-600",
            0x290: "PXA250B/PXA26x", 0x292: "PXA210B", 0x2c2: "i80321-400-B0", 0x2c3: "i80321-600-B0",
            0x2d0: "PXA250C/PXA255/PXA26x", 0x2d2: "PXA210C", 0x411: "PXA27x", 0x41c: "IPX425-533",
            0x41d: "IPX425-400", 0x41f: "IPX425-266", 0x682: "PXA32x", 0x683: "PXA930/PXA935", 0x688: "PXA30x",
            0x689: "PXA31x", 0xb11: "SA1110", 0xc12: "IPX1200",
        ]),
        0x70: Implementer(name: "Phytium", parts: [0x660: "FTC660", 0x661: "FTC661", 0x662: "FTC662", 0x663: "FTC663"]),
        0xc0: Implementer(name: "Ampere", parts: [0xac3: "Ampere-1", 0xac4: "Ampere-1a"]),
    ]
}

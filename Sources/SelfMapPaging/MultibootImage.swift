/// A multiboot (v1) ELF32 image that installs a ``Machine``'s current tables on a real or
/// emulated x86 CPU: it loads the machine's RAM at its physical addresses, enables paging in the
/// machine's mode, writes `OK` to COM1 and halts. QEMU boots it with `-kernel`.
///
/// The code runs at ``codeAddress`` in 32-bit protected mode; the machine must map that page to
/// itself, executable and supervisor-writable, so that execution continues once paging is on
/// (``identityMapCode(in:)`` does it). Long modes stay in compatibility mode: the tables are in
/// force, and no 64-bit code segment is needed to halt.
public enum MultibootImage {
    public static let codeAddress: UInt64 = 0x10_0000

    /// Maps the code page to itself in `machine`.
    public static func identityMapCode(in machine: inout Machine) throws(PagingError) {
        if try machine.translate(codeAddress)?.physicalAddress == codeAddress { return }
        try machine.map(codeAddress, to: codeAddress, flags: [.writable])
    }

    /// The ELF file's bytes.
    public static func build(_ machine: Machine) throws(PagingError) -> [UInt8] {
        var m = machine
        guard let code = try m.translate(codeAddress), code.physicalAddress == codeAddress, code.executable else {
            throw .invalidConfiguration("the code page 0x\(String(codeAddress, radix: 16)) must be identity-mapped and executable")
        }
        guard machine.memory.base >= codeAddress + 0x1000, machine.memory.end <= 0xFFFF_F000 else {
            throw .invalidConfiguration("RAM must lie between 1 MiB + 4 KiB and 4 GiB to be loaded by multiboot")
        }
        let text = program(machine)
        let used = machine.memory.materializedFrames.last.map { $0.address + 0x1000 - machine.memory.base } ?? 0x1000
        var ram = [UInt8](repeating: 0, count: Int(used))
        for frame in machine.memory.materializedFrames {
            let offset = Int(frame.address - machine.memory.base)
            for i in 0..<512 {
                let word = machine.memory.read64(frame.address + UInt64(i * 8))
                for b in 0..<8 { ram[offset + i * 8 + b] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(b))) }
            }
        }
        var out = [UInt8]()
        func u16(_ v: Int) { out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: UInt64) { for b in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(b)))) } }
        // ELF header (32-bit, little-endian, i386 executable).
        out += [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        u16(2); u16(3); u32(1)
        u32(codeAddress + 12)       // entry: after the multiboot header
        u32(52); u32(0); u32(0)     // program headers at 52, no sections, flags
        u16(52); u16(32); u16(2); u16(40); u16(0); u16(0)
        // Program headers: the code, then RAM.
        for (offset, address, size, flags) in [(0x1000, codeAddress, UInt64(text.count), 5), (0x2000, machine.memory.base, used, 6)] {
            u32(1); u32(UInt64(offset)); u32(address); u32(address); u32(size); u32(size); u32(UInt64(flags)); u32(0x1000)
        }
        out += [UInt8](repeating: 0, count: 0x1000 - out.count)
        out += text
        out += [UInt8](repeating: 0, count: 0x2000 - out.count)
        out += ram
        return out
    }

    /// The boot code: multiboot header, then paging on in the machine's mode, "OK\n" to COM1, halt.
    static func program(_ machine: Machine) -> [UInt8] {
        var code: [UInt8] = []
        func imm(_ v: UInt32) { code += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        // Multiboot header: magic, flags 0 (ELF layout), checksum.
        imm(0x1BAD_B002); imm(0); imm(UInt32(truncatingIfNeeded: -Int64(0x1BAD_B002)))
        code += [0xFA]                                   // cli
        let mode = machine.mode
        var cr4: UInt32 = 0x10                           // PSE (4 MiB pages in 32-bit paging)
        if mode != .i386 { cr4 |= 0x20 }                 // PAE
        if mode == .la57 { cr4 |= 0x1000 }               // LA57, before paging is on
        code += [0x0F, 0x20, 0xE0, 0x0D]; imm(cr4); code += [0x0F, 0x22, 0xE0]     // mov eax,cr4; or eax,imm; mov cr4,eax
        if mode != .i386 {
            var efer: UInt32 = 0x800                     // NXE
            if mode == .x86_64 || mode == .la57 { efer |= 0x100 }   // LME
            code += [0xB9]; imm(0xC000_0080)             // mov ecx, IA32_EFER
            code += [0x0F, 0x32, 0x0D]; imm(efer); code += [0x0F, 0x30]  // rdmsr; or eax,imm; wrmsr
        }
        code += [0xB8]; imm(UInt32(machine.current.root.address)); code += [0x0F, 0x22, 0xD8]   // mov eax,root; mov cr3,eax
        code += [0x0F, 0x20, 0xC0, 0x0D]; imm(0x8001_0001); code += [0x0F, 0x22, 0xC0]         // CR0 |= PG|WP|PE
        code += [0x66, 0xBA, 0xF8, 0x03]                 // mov dx, 0x3F8
        for byte in Array("OK\n".utf8) { code += [0xB0, byte, 0xEE] }   // mov al,c; out dx,al
        code += [0xFA, 0xF4, 0xEB, 0xFC]                 // cli; hlt; jmp back to hlt
        return code
    }
}

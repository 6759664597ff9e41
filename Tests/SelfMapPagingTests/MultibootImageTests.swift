import Foundation
import Testing
@testable import SelfMapPaging

/// Boots the library's tables on QEMU's emulated CPU and asks its monitor (`gva2gpa`) where
/// every self-mapped table address and many random addresses go.
@Suite("Multiboot image on QEMU's MMU", .serialized)
struct MultibootImageTests {
    /// A machine with random 4 KiB and large pages in user and kernel space.
    static func populated(_ mode: PagingMode, seed: UInt64) throws -> (Machine, [UInt64]) {
        var m = try Machine(mode: mode, frameCount: 4096)
        var rng = SplitMix64(seed: seed)
        let narrow = mode == .i386 || mode == .pae
        let paLimit: UInt64 = mode == .i386 ? 1 << 32 : 1 << 39
        var mapped: [UInt64] = []
        while mapped.count < 150 {
            let raw = rng.next()
            let va = m.selfMap.canonical(raw & ((1 << UInt64(mode.virtualAddressBits)) - 1)) & ~0xFFF
            let pa = (rng.next() % paLimit) & ~0xFFF
            var flags: EntryFlags = [.writable]
            if va < (narrow ? 0xC000_0000 : 1 << 63) { flags.insert(.user) }
            if !narrow || mode == .pae, raw & 1 == 0 { flags.insert(.noExecute) }
            do {
                try m.map(va, to: pa, flags: flags, tables: raw & 2 == 0 ? .topDown : .onFault)
                mapped.append(va)
            } catch {
                guard Self.collides(error) else { throw error }
            }
        }
        for size in PageSize.allCases where size != .size4KiB && size.level(in: mode) != nil {
            for _ in 0..<4 {
                let va = m.selfMap.canonical(rng.next() & ((1 << UInt64(mode.virtualAddressBits)) - 1)) & ~(size.bytes - 1)
                let pa = (rng.next() % paLimit) & ~(size.bytes - 1)
                do { try m.map(va, to: pa, size: size); mapped.append(va) } catch {
                    guard Self.collides(error) else { throw error }
                }
            }
        }
        try MultibootImage.identityMapCode(in: &m)
        mapped.append(MultibootImage.codeAddress)
        return (m, mapped)
    }

    /// A random address that hit the self-map or an earlier mapping: try another.
    static func collides(_ error: PagingError) -> Bool {
        switch error {
        case .selfMapRegion, .alreadyMapped, .hugePageInTheWay, .managedMemory: true
        default: false
        }
    }

    /// QEMU's answers to `gva2gpa` for each address, in order: nil for "Unmapped".
    static func askQEMU(_ image: [UInt8], _ addresses: [UInt64]) async throws -> [UInt64?] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("labctl-paging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let elf = dir.appendingPathComponent("guest.elf"), serial = dir.appendingPathComponent("serial.txt")
        try Data(image).write(to: elf)
        let qemu = Process()
        // timeout(1) bounds a stuck guest: QEMU's exit closes the pipe and the read below fails.
        qemu.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        qemu.arguments = ["120", "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "128", "-kernel", elf.path, "-monitor", "stdio",
                          "-display", "none", "-serial", "file:\(serial.path)", "-no-reboot", "-nic", "none"]
        let input = Pipe(), output = Pipe()
        qemu.standardInput = input
        qemu.standardOutput = output
        qemu.standardError = output
        try qemu.run()
        let deadline = Date().addingTimeInterval(60)
        while (try? String(contentsOf: serial, encoding: .utf8))?.contains("OK") != true {
            guard Date() < deadline, qemu.isRunning else { qemu.terminate(); throw QEMUError.noBoot }
            try await Task.sleep(for: .milliseconds(50))
        }
        // One command at a time: the monitor's line editor drops input that arrives while it works.
        let monitor = output.fileHandleForReading
        var answers: [UInt64?] = []
        var pending = ""
        for address in addresses {
            input.fileHandleForWriting.write(Data("gva2gpa 0x\(String(address, radix: 16))\n".utf8))
            var answer: UInt64?? = nil
            while answer == nil {
                let chunk = monitor.availableData
                guard !chunk.isEmpty else { throw QEMUError.answers(answers.count, addresses.count, pending) }
                pending += String(decoding: chunk, as: UTF8.self)
                while let end = pending.firstIndex(where: \.isNewline) {
                    let line = pending[..<end]
                    if let r = line.range(of: "gpa: 0x") {
                        answer = .some(UInt64(line[r.upperBound...].prefix { $0.isHexDigit }, radix: 16))
                    } else if line.contains("Unmapped") {
                        answer = .some(nil)
                    }
                    pending.removeSubrange(...end)
                }
            }
            answers.append(answer!)
        }
        input.fileHandleForWriting.write(Data("quit\n".utf8))
        qemu.waitUntilExit()
        return answers
    }

    enum QEMUError: Error { case noBoot, answers(Int, Int, String) }

    @Test("QEMU's MMU agrees with the library on every self-mapped table and on random addresses",
          .timeLimit(.minutes(3)), arguments: PagingMode.allCases)
    func qemuAgrees(mode: PagingMode) async throws {
        var (m, mapped) = try Self.populated(mode, seed: 0x5EED + UInt64(mode.levels))
        var rng = SplitMix64(seed: 99)
        var queries: [UInt64] = []
        // Every table's self-mapped address (PAE: the four PDs and every PT).
        var tables = Set<UInt64>()
        for va in mapped {
            let sig = try m.selfMap.significantBits(of: va)
            let leafLevel = try #require(try m.translate(va)).level
            // The tables holding va's entries, from the leaf's up to the top one.
            for level in leafLevel...(mode == .pae ? 2 : mode.levels) { tables.insert(m.own.tableAddress(sig, level: level)) }
        }
        queries += tables.sorted()
        queries += mapped.map { $0 + (rng.next() % 4096 & ~7) }
        for _ in 0..<200 {
            queries.append(m.selfMap.canonical(rng.next() & ((1 << UInt64(mode.virtualAddressBits)) - 1)) & ~7)
        }
        var expected: [UInt64?] = []
        for va in queries { expected.append(try m.translate(va)?.physicalAddress) }
        #expect(expected.filter { $0 == nil }.count > 50, "random addresses should be mostly unmapped")
        let answers = try await Self.askQEMU(try MultibootImage.build(m), queries)
        var mismatches = 0
        for (k, va) in queries.enumerated() where answers[k] != expected[k] {
            mismatches += 1
            if mismatches <= 5 {
                Issue.record("\(mode) 0x\(String(va, radix: 16)): QEMU \(answers[k].map { "0x" + String($0, radix: 16) } ?? "unmapped"), library \(expected[k].map { "0x" + String($0, radix: 16) } ?? "unmapped")")
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(queries.count) addresses differ")
        #expect(tables.count >= (mode == .pae ? 5 : mode.levels))
    }
}

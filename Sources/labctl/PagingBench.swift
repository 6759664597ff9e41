import ArgumentParser
import SelfMapPaging

extension Paging {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench",
            abstract: "Time translate, map/unmap and fork through the self-map, beside the direct walker.",
            discussion: """
                translate: random addresses over mapped pages, through the self-map with the TLB model
                (64-entry TLB, 2,048-entry STLB), without it, and by the direct walker (physical reads
                only); the ratio is self-map/direct.
                map/unmap: PAGES consecutive 4 KiB pages, top-down and fault-driven table creation.
                fork: a FORK-MiB address space of demand-paged data (every page written), eager and copy-on-write, then kill.
                Build with -c release for meaningful figures.

                Example:
                  swift build -c release --product labctl && .build/release/labctl paging bench --mode x86_64
                """)

        @Option(help: "Paging mode.")
        var mode: PagingMode = .x86_64

        @Option(help: "Pages to map and unmap.")
        var pages = 1_000_000

        @Option(help: "Random translations per variant.")
        var lookups = 1_000_000

        @Option(name: .customLong("fork-mib"), help: "Size of the address space to fork, in MiB.")
        var forkMiB = 1024

        @OptionGroup var output: OutputOptions

        /// ns per translation of one address set by the three translators.
        struct TranslateTimes: Encodable {
            var selfMapTLBNs: Double
            var selfMapNoTLBNs: Double
            var directNs: Double
            /// Self-map with the TLB over the direct walker.
            var selfMapOverDirect: Double
            var tlbHitRate: Double
            /// Of the first-level misses, the share the second-level TLB answered.
            var secondLevelTLBHitRate: Double
        }

        struct Report: Encodable {
            var mode: PagingMode
            /// Random addresses over every mapped page.
            var translateRandom: TranslateTimes
            /// Random addresses within 512 pages.
            var translateNearby: TranslateTimes
            var mapPagesPerSecond: Double
            var mapOnFaultPagesPerSecond: Double
            var unmapPagesPerSecond: Double
            var tableBytesPerPage: Double
            var hostBytesPerPage: Double
            var forkEagerMs: Double
            var forkCopyOnWriteMs: Double
            var killEagerMs: Double
            var killCopyOnWriteMs: Double
        }

        func run() throws {
            guard pages > 0, lookups > 0, forkMiB > 0 else { throw LabError("--pages, --lookups and --fork-mib must be positive") }
            let report: Report
            do { report = try measure() } catch let error as PagingError { throw LabError("\(error)") }
            try output.emit(report) { print(report.text) }
        }

        /// Times the self-map (with and without the TLB) and the direct walker on `addresses`.
        /// After one warm-up pass (which also sets every accessed bit, so no pass writes memory),
        /// the three alternate in chunks, in rotating order, so that each sees the same caches.
        func timeTranslations(_ addresses: [UInt64], _ machine: inout Machine, _ uncached: inout Machine) throws -> TranslateTimes {
            let clock = ContinuousClock()
            var sink: UInt64 = 0
            for va in addresses {
                sink &+= try machine.translate(va)?.physicalAddress ?? 0
                sink &+= try uncached.translate(va)?.physicalAddress ?? 0
            }
            let walker = machine.directWalker
            let root = machine.current.root.address
            let (hits, misses) = (machine.mmu.tlb.hits, machine.mmu.tlb.misses)
            let (secondHits, secondMisses) = (machine.mmu.secondLevelTLB.hits, machine.mmu.secondLevelTLB.misses)
            var totals = [Duration](repeating: .zero, count: 3)
            let chunk = 4096
            for (n, first) in stride(from: 0, to: addresses.count, by: chunk).enumerated() {
                let part = addresses[first..<min(first + chunk, addresses.count)]
                for k in 0..<3 {
                    let variant = (k + n) % 3
                    let start = clock.now
                    switch variant {
                    case 0: for va in part { sink &+= try machine.translate(va)?.physicalAddress ?? 0 }
                    case 1: for va in part { sink &+= try uncached.translate(va)?.physicalAddress ?? 0 }
                    default: for va in part { sink &+= try walker.translate(root: root, va)?.physicalAddress ?? 0 }
                    }
                    totals[variant] += clock.now - start
                }
            }
            if sink == 42 { print("") }    // keeps the loops from being optimised away
            func ns(_ d: Duration) -> Double { seconds(d) * 1e9 / Double(addresses.count) }
            let lookups = Double(machine.mmu.tlb.hits - hits + machine.mmu.tlb.misses - misses)
            let secondHit = machine.mmu.secondLevelTLB.hits - secondHits
            let secondLookups = Double(secondHit + machine.mmu.secondLevelTLB.misses - secondMisses)
            return TranslateTimes(selfMapTLBNs: ns(totals[0]), selfMapNoTLBNs: ns(totals[1]), directNs: ns(totals[2]),
                                  selfMapOverDirect: ns(totals[0]) / ns(totals[2]),
                                  tlbHitRate: lookups > 0 ? Double(machine.mmu.tlb.hits - hits) / lookups : 0,
                                  secondLevelTLBHitRate: secondLookups > 0 ? Double(secondHit) / secondLookups : 0)
        }

        func measure() throws -> Report {
            let clock = ContinuousClock()
            let narrow = mode == .i386 || mode == .pae
            let base: UInt64 = 0x4000_0000
            let span = UInt64(min(pages, narrow ? 0x30000 : pages))
            let tableFrames = Int(span / 256) + 64
            let device: UInt64 = 0x8000_0000    // map takes memory outside RAM, as a device's
            func mapSpan(_ m: inout Machine, tables: TableCreation = .topDown) throws {
                for k in 0..<span { try m.map(base + k << 12, to: device + (k & 0x3FFFF) << 12, flags: [.writable, .user], tables: tables) }
            }

            // map / unmap
            var machine = try Machine(mode: mode, frameCount: tableFrames + 16)
            let before = machine.frames.accounting
            var start = clock.now
            try mapSpan(&machine)
            let mapTime = seconds(clock.now - start)
            let tables = machine.frames.accounting.tables - before.tables
            let host = machine.memory.hostBytes

            // translate: the same addresses for each variant, random over every mapped page and
            // random within one 2 MiB stretch (TLB-friendly)
            var uncached = try Machine(mode: mode, frameCount: tableFrames + 16, tlbCapacity: 0)
            try mapSpan(&uncached)
            var rng = SplitMix64(seed: 1)
            let spread = (0..<lookups).map { _ in base + (rng.next() % span) << 12 | (rng.next() & 0xFF8) }
            let local = (0..<lookups).map { _ in base + (rng.next() % min(span, 512)) << 12 | (rng.next() & 0xFF8) }
            let random = try timeTranslations(spread, &machine, &uncached)
            let nearby = try timeTranslations(local, &machine, &uncached)

            start = clock.now
            for k in 0..<span { try machine.unmap(base + k << 12) }
            let unmapTime = seconds(clock.now - start)

            var faulting = try Machine(mode: mode, frameCount: tableFrames + 16)
            start = clock.now
            try mapSpan(&faulting, tables: .onFault)
            let onFaultTime = seconds(clock.now - start)

            // fork of a demand-paged address space
            let forkPages = UInt64(forkMiB) << 8
            let limit = narrow ? UInt64(0xB000_0000) : UInt64(1) << 40
            guard forkPages << 12 < limit - base else { throw LabError("--fork-mib \(forkMiB) does not fit user space") }
            var parent = try Machine(mode: mode, frameCount: Int(forkPages) * 2 + Int(forkPages / 256) * 2 + 256)
            // A word in every page, so that each page holds data the eager fork must copy.
            for k in 0..<forkPages { try parent.store(k + 1, at: base + k << 12) }
            var timings: [Double] = []
            for strategy in [ForkStrategy.eager, .copyOnWrite] {
                start = clock.now
                let child = try parent.fork(strategy)
                timings.append(seconds(clock.now - start))
                start = clock.now
                try parent.kill(child)
                timings.append(seconds(clock.now - start))
            }
            return Report(
                mode: mode, translateRandom: random, translateNearby: nearby,
                mapPagesPerSecond: Double(span) / mapTime, mapOnFaultPagesPerSecond: Double(span) / onFaultTime,
                unmapPagesPerSecond: Double(span) / unmapTime,
                tableBytesPerPage: Double(tables * 4096) / Double(span), hostBytesPerPage: Double(host) / Double(span),
                forkEagerMs: timings[0] * 1000, forkCopyOnWriteMs: timings[2] * 1000,
                killEagerMs: timings[1] * 1000, killCopyOnWriteMs: timings[3] * 1000)
        }
    }
}

extension Paging.Bench.Report {
    var text: String {
        func f(_ v: Double, _ digits: Int = 1) -> String {
            if digits == 0 { return String(Int(v.rounded())) }
            let scale = (0..<digits).reduce(1.0) { r, _ in r * 10 }
            return String((v * scale).rounded() / scale)
        }
        func pad(_ text: String) -> String { String(repeating: " ", count: max(0, 10 - text.count)) + text }
        return """
            mode \(mode.rawValue)
            translate                        random over all pages   random within 512 pages
            self-map with TLB                \(pad(f(translateRandom.selfMapTLBNs))) ns/op    \(f(translateNearby.selfMapTLBNs)) ns/op
            self-map without TLB             \(pad(f(translateRandom.selfMapNoTLBNs))) ns/op    \(f(translateNearby.selfMapNoTLBNs)) ns/op
            direct walker                    \(pad(f(translateRandom.directNs))) ns/op    \(f(translateNearby.directNs)) ns/op
            self-map (TLB) / direct          \(pad(f(translateRandom.selfMapOverDirect, 2)))×       \(f(translateNearby.selfMapOverDirect, 2))×
            TLB hit rate                     \(pad(f(translateRandom.tlbHitRate * 100))) %      \(f(translateNearby.tlbHitRate * 100)) %
            STLB hit rate (of TLB misses)    \(pad(f(translateRandom.secondLevelTLBHitRate * 100))) %      \(f(translateNearby.secondLevelTLBHitRate * 100)) %
            map, top-down                    \(f(mapPagesPerSecond, 0)) pages/s
            map, fault-driven                \(f(mapOnFaultPagesPerSecond, 0)) pages/s
            unmap (freeing tables)           \(f(unmapPagesPerSecond, 0)) pages/s
            tables per mapped page           \(f(tableBytesPerPage, 2)) bytes (simulator: \(f(hostBytesPerPage, 2)) host bytes)
            fork, eager                      \(f(forkEagerMs)) ms (kill \(f(killEagerMs)) ms)
            fork, copy-on-write              \(f(forkCopyOnWriteMs)) ms (kill \(f(killCopyOnWriteMs)) ms)
            """
    }
}

/// A duration in seconds.
private func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

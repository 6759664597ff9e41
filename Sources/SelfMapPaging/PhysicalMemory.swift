/// A physical frame: a 4 KiB-aligned physical address.
public struct Frame: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let address: UInt64
    public init(address: UInt64) {
        precondition(address & 0xFFF == 0, "a frame address is 4 KiB aligned")
        self.address = address
    }
    public static func < (a: Frame, b: Frame) -> Bool { a.address < b.address }
    public var description: String { "frame 0x\(String(address, radix: 16, uppercase: true))" }
}

/// Simulated RAM: `frameCount` 4 KiB frames from physical address `base`.
///
/// Frames that were never written read as zeros and take no host memory, so a large machine
/// with few tables stays small. Reads outside the managed range return 0, as open bus would.
public struct PhysicalMemory: Sendable {
    public static let frameSize: UInt64 = 4096
    public let base: UInt64
    public let frameCount: Int
    /// Frame number → slot in `words`, or -1 while the frame is all zeros.
    @usableFromInline var slots: [Int32]
    @usableFromInline var words: [UInt64] = []

    public init(base: UInt64 = 0x20_0000, frameCount: Int) {
        precondition(base & 0xFFF == 0 && frameCount > 0 && frameCount < Int(Int32.max))
        self.base = base
        self.frameCount = frameCount
        slots = Array(repeating: -1, count: frameCount)
    }

    /// One past the highest managed physical address.
    public var end: UInt64 { base + UInt64(frameCount) * Self.frameSize }

    public func contains(_ pa: UInt64) -> Bool { pa >= base && pa < end }

    @inlinable func slot(of pa: UInt64) -> Int32 {
        guard pa >= base else { return -1 }
        let frame = (pa &- base) >> 12
        guard frame < UInt64(slots.count) else { return -1 }
        return slots[Int(frame)]
    }

    /// The 8 bytes at `pa` (8-byte aligned), little-endian.
    @inlinable public func read64(_ pa: UInt64) -> UInt64 {
        let s = slot(of: pa)
        guard s >= 0 else { return 0 }
        return words[Int(s) &* 512 &+ Int((pa >> 3) & 511)]
    }

    /// The 4 bytes at `pa` (4-byte aligned).
    @inlinable public func read32(_ pa: UInt64) -> UInt32 {
        let word = read64(pa & ~7)
        return UInt32(truncatingIfNeeded: pa & 4 == 0 ? word : word >> 32)
    }

    /// The index in the host storage of the frame's first word, or -1 while it has none.
    func firstWord(ofFrame pa: UInt64) -> Int {
        let s = slot(of: pa)
        return s < 0 ? -1 : Int(s) &* 512
    }

    /// The word at a host storage index from ``firstWord(ofFrame:)``.
    subscript(word index: Int) -> UInt64 {
        get { words[index] }
        set { words[index] = newValue }
    }

    /// Writes 8 bytes at `pa`; writes outside managed memory are dropped.
    @inlinable public mutating func write64(_ pa: UInt64, _ value: UInt64) {
        guard let s = materialize(pa) else { return }
        words[s &* 512 &+ Int((pa >> 3) & 511)] = value
    }

    @inlinable public mutating func write32(_ pa: UInt64, _ value: UInt32) {
        let word = read64(pa & ~7)
        let merged = pa & 4 == 0 ? (word & 0xFFFF_FFFF_0000_0000) | UInt64(value) : (word & 0xFFFF_FFFF) | UInt64(value) << 32
        write64(pa & ~7, merged)
    }

    @usableFromInline mutating func materialize(_ pa: UInt64) -> Int? {
        guard contains(pa) else { return nil }
        let frame = Int((pa - base) >> 12)
        if slots[frame] < 0 {
            // Reserve room for every frame up front (up to 4 GiB of address space; the host backs
            // only what is written), so that growing never copies all the frames written so far.
            if words.capacity == 0 { words.reserveCapacity(min(frameCount, 1 << 20) * 512) }
            slots[frame] = Int32(words.count / 512)
            words.append(contentsOf: repeatElement(0, count: 512))
        }
        return Int(slots[frame])
    }

    /// Sets a managed frame to zeros.
    public mutating func zero(_ frame: Frame) {
        let s = slot(of: frame.address)
        guard s >= 0 else { return }
        words.withUnsafeMutableBufferPointer { buffer in
            buffer.extracting(Int(s) * 512..<Int(s) * 512 + 512).update(repeating: 0)
        }
    }

    /// Copies the contents of one managed frame to another.
    public mutating func copy(_ source: Frame, to destination: Frame) {
        let s = slot(of: source.address)
        if s < 0 { zero(destination); return }
        guard let d = materialize(destination.address) else { return }
        let from = Int(s) * 512, to = d * 512
        words.withUnsafeMutableBufferPointer { buffer in
            _ = buffer.extracting(to..<to + 512).update(fromContentsOf: UnsafeBufferPointer(rebasing: buffer[from..<from + 512]))
        }
    }

    /// Frames that hold some non-zero byte, in address order (for images and audits).
    public var materializedFrames: [Frame] {
        slots.indices.filter { slots[$0] >= 0 }.map { Frame(address: base + UInt64($0) << 12) }
    }

    /// Host bytes used for frame contents.
    public var hostBytes: Int { words.count * 8 + slots.count * 4 }
}

/// What a frame is used for.
public enum FrameUse: Sendable, Hashable {
    case free
    case table
    case data
}

/// Hands out frames of a ``PhysicalMemory`` and accounts for each one: free, a page table, or
/// a data page with a reference count (copy-on-write shares data pages between address spaces).
public struct FrameAllocator: Sendable {
    public let base: UInt64
    public let frameCount: Int
    private var use: [FrameUse]
    private var references: [UInt32]
    private var freeList: [Int32]

    /// Every frame free, handed out lowest address first.
    public init(base: UInt64, frameCount: Int, reserved: Int = 0) {
        self.base = base
        self.frameCount = frameCount
        use = Array(repeating: .free, count: frameCount)
        references = Array(repeating: 0, count: frameCount)
        freeList = (reserved..<frameCount).reversed().map { Int32($0) }
    }

    private func number(_ frame: Frame) -> Int? {
        guard frame.address >= base else { return nil }
        let n = (frame.address - base) >> 12
        return n < UInt64(frameCount) ? Int(n) : nil
    }

    /// Takes a free frame for `purpose` (.table or .data), or nil when none is left.
    public mutating func allocate(_ purpose: FrameUse) -> Frame? {
        precondition(purpose != .free)
        guard let n = freeList.popLast() else { return nil }
        use[Int(n)] = purpose
        references[Int(n)] = 1
        return Frame(address: base + UInt64(n) << 12)
    }

    /// Drops one reference; the frame is free again when none is left. Returns true if it was freed.
    @discardableResult
    public mutating func release(_ frame: Frame) -> Bool {
        guard let n = number(frame) else { return false }
        precondition(use[n] != .free, "\(frame) released twice")
        references[n] -= 1
        guard references[n] == 0 else { return false }
        use[n] = .free
        freeList.append(Int32(n))
        return true
    }

    /// Adds a reference to a data frame (a copy-on-write share). False if the allocator does not own it.
    @discardableResult
    public mutating func retain(_ frame: Frame) -> Bool {
        guard let n = number(frame), use[n] != .free else { return false }
        references[n] += 1
        return true
    }

    /// Whether the allocator owns `frame` (it is in range and allocated).
    public func owns(_ frame: Frame) -> Bool { number(frame).map { use[$0] != .free } ?? false }

    public func use(of frame: Frame) -> FrameUse { number(frame).map { use[$0] } ?? .free }

    public func referenceCount(of frame: Frame) -> Int { number(frame).map { Int(references[$0]) } ?? 0 }

    /// Counts by use.
    public var accounting: FrameAccounting {
        var a = FrameAccounting(total: frameCount)
        for n in 0..<frameCount {
            switch use[n] {
            case .free: a.free += 1
            case .table: a.tables += 1
            case .data:
                a.data += 1
                if references[n] > 1 { a.shared += 1 }
            }
        }
        return a
    }
}

/// Where every frame is: free, page tables, data pages (some shared copy-on-write).
public struct FrameAccounting: Sendable, Hashable, Codable, CustomStringConvertible {
    public var total: Int
    public var free = 0
    public var tables = 0
    public var data = 0
    /// Data frames referenced by more than one mapping.
    public var shared = 0

    public init(total: Int) { self.total = total }

    /// Free + tables + data = total: no frame is unaccounted for.
    public var balances: Bool { free + tables + data == total }

    public var description: String {
        "\(total) frames: \(tables) tables, \(data) data (\(shared) shared), \(free) free"
    }
}

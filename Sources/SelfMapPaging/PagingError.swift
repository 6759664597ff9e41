/// Why a paging operation failed.
public enum PagingError: Error, Sendable, Hashable, CustomStringConvertible {
    case alreadyMapped(VirtualAddress)
    case notMapped(VirtualAddress)
    /// A large page at `level` covers the address, so no table can go there.
    case hugePageInTheWay(VirtualAddress, level: Int)
    case outOfFrames
    case nonCanonical(UInt64)
    case reservedBitSet(VirtualAddress, level: Int, entry: UInt64)
    case misaligned(UInt64, PageSize)
    case unsupportedPageSize(PageSize, PagingMode)
    case invalidFlags(String)
    case physicalAddressTooWide(UInt64)
    /// `map` named physical memory that the frame allocator manages.
    case managedMemory(UInt64)
    /// The address lies in the self-map or the fork window, which only the kernel manages.
    case selfMapRegion(VirtualAddress)
    /// A fault the kernel could not resolve.
    case pageFault(PageFault)
    case addressSpaceInUse
    case noSuchAddressSpace
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .alreadyMapped(let va): "\(va) is already mapped"
        case .notMapped(let va): "\(va) is not mapped"
        case .hugePageInTheWay(let va, let level): "a large page at level \(level) covers \(va)"
        case .outOfFrames: "out of physical frames"
        case .nonCanonical(let va): "0x\(String(va, radix: 16, uppercase: true)) is not a valid address in this mode (not canonical or too wide)"
        case .reservedBitSet(let va, let level, let entry):
            "reserved bit set in the level-\(level) entry 0x\(String(entry, radix: 16, uppercase: true)) for \(va)"
        case .misaligned(let address, let size): "0x\(String(address, radix: 16, uppercase: true)) is not aligned to a \(size) page"
        case .unsupportedPageSize(let size, let mode): "\(mode.rawValue) has no \(size) pages"
        case .invalidFlags(let why): "invalid flags: \(why)"
        case .physicalAddressTooWide(let pa): "physical address 0x\(String(pa, radix: 16, uppercase: true)) is too wide for this entry"
        case .managedMemory(let pa): "physical address 0x\(String(pa, radix: 16, uppercase: true)) lies in the RAM the frame allocator manages; map memory outside it, or touch an address to demand-page RAM"
        case .selfMapRegion(let va): "\(va) lies in the self-map or fork window region"
        case .pageFault(let fault): "unresolved \(fault)"
        case .addressSpaceInUse: "the address space is the current one"
        case .noSuchAddressSpace: "no such address space"
        case .invalidConfiguration(let why): why
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CDeflate

/// gzip through libdeflate. It inflates a whole member in one call and checks the CRC-32 with
/// carry-less multiplication where the CPU has it; zlib 1.2's table-driven inflate and CRC took
/// a fifth of a report's instructions. No libdeflate type leaves this file.
enum Gzip {
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates a gzip stream of one or more members, refusing to produce more than `limit` bytes
    /// (a decompression bomb).
    static func decompress(_ input: [UInt8], limit: Int) throws(DumpError) -> [UInt8] {
        guard let decompressor = libdeflate_alloc_decompressor() else { throw .compression("out of memory") }
        defer { libdeflate_free_decompressor(decompressor) }
        // libdeflate needs room for a whole member before it starts, and writes straight into the
        // uninitialized storage of `output`. The first size is the last member's trailer, a hint
        // that may lie (so capped at 8 MiB and at deflate's best ratio of 1032:1). A member that
        // does not fit is inflated again into twice the room, up to one byte past the limit.
        let hint = min(trailerSize(input), input.count * 1032, 8 << 20)
        var capacity = min(max(hint, 1 << 12), limit + 1)
        var output: [UInt8] = []
        var consumed = 0  // the input of the members already in `output`
        var result = LIBDEFLATE_SUCCESS
        try input.withUnsafeBufferPointer { source throws(DumpError) in
            while true {
                output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                    prefault(UnsafeMutableRawBufferPointer(buffer))
                    count = buffer.initialize(fromContentsOf: output)
                    while consumed < source.count {  // concatenated members are legal
                        var read = 0
                        var written = 0
                        result = libdeflate_gzip_decompress_ex(decompressor, source.baseAddress! + consumed, source.count - consumed,
                                                               buffer.baseAddress! + count, buffer.count - count, &read, &written)
                        guard result == LIBDEFLATE_SUCCESS else { return }
                        consumed += read
                        count += written
                    }
                }
                guard result == LIBDEFLATE_INSUFFICIENT_SPACE else { return }
                guard capacity <= limit else { throw .archiveTooLarge(limit: limit) }
                capacity = min(capacity * 2, limit + 1)
            }
        }
        guard result == LIBDEFLATE_SUCCESS else { throw .compression("invalid or truncated data") }
        if output.count > limit { throw .archiveTooLarge(limit: limit) }
        return output
    }

    /// Maps a large buffer's pages before it is written. malloc gives a fresh mapping for it,
    /// whose pages would otherwise fault in one by one (40 faults for a 160 KiB dump, about
    /// 3 µs each in a VM); one madvise maps them all. Kernels before 5.14 refuse it, harmlessly.
    private static func prefault(_ buffer: UnsafeMutableRawBufferPointer) {
        let page = 4096
        guard buffer.count >= 16 * page, let base = buffer.baseAddress else { return }
        let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
        let end = (Int(bitPattern: base) + buffer.count) & ~(page - 1)
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_POPULATE_WRITE)
    }

    /// ISIZE, the uncompressed size mod 2^32 that ends a gzip member, or 0 if there is none.
    private static func trailerSize(_ input: [UInt8]) -> Int {
        guard input.count >= 18 else { return 0 }
        return input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        guard let compressor = libdeflate_alloc_compressor(level) else { fatalError("libdeflate: out of memory") }
        defer { libdeflate_free_compressor(compressor) }
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            count = input.withUnsafeBytes { libdeflate_gzip_compress(compressor, $0.baseAddress, $0.count, buffer.baseAddress, buffer.count) }
            precondition(count > 0, "libdeflate: the compress bound was too small")
        }
    }
}

import CZlib

/// gzip through zlib. No zlib type leaves this file.
enum Gzip {
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates a gzip stream, refusing to produce more than `limit` bytes (a decompression bomb).
    static func decompress(_ input: [UInt8], limit: Int) throws(DumpError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .compression("cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        // zlib writes straight into the uninitialized storage of `output`. Its first size is the
        // last member's trailer, a hint that may lie (so capped at 8 MiB and at deflate's best
        // ratio of 1032:1); when full, it moves to one twice the size, up to one byte past the limit.
        let hint = min(trailerSize(input), input.count * 1032, 8 << 20)
        var capacity = min(max(hint, 1 << 12), limit + 1)
        var output: [UInt8] = []
        var status: Int32 = Z_OK
        input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)  // zlib only reads it
            stream.avail_in = UInt32(source.count)
            while true {
                output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                    count = buffer.initialize(fromContentsOf: output)
                    repeat {
                        let room = min(buffer.count - count, Int(UInt32.max))
                        stream.next_out = buffer.baseAddress! + count
                        stream.avail_out = UInt32(room)
                        status = inflate(&stream, Z_NO_FLUSH)
                        count += room - Int(stream.avail_out)
                        // Concatenated gzip members are legal; start the next one.
                        if status == Z_STREAM_END && stream.avail_in > 0 {
                            status = inflateReset(&stream)
                        }
                    } while status == Z_OK && count < buffer.count && stream.avail_in > 0
                }
                // Go on only while zlib stopped for room, not for the end, an error or no input.
                guard status == Z_OK, output.count == capacity, capacity <= limit else { break }
                capacity = min(capacity * 2, limit + 1)
            }
        }
        if output.count > limit { throw .archiveTooLarge(limit: limit) }
        if status == Z_STREAM_END { return output }
        if status == Z_OK || status == Z_BUF_ERROR { throw .compression("unexpected end of data") }
        throw .compression(stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
    }

    /// ISIZE, the uncompressed size mod 2^32 that ends a gzip member, or 0 if there is none.
    private static func trailerSize(_ input: [UInt8]) -> Int {
        guard input.count >= 18 else { return 0 }
        return input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var input = input
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))))
        input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = UInt32(destination.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END)
            }
        }
        output.removeLast(Int(stream.avail_out))
        return output
    }
}

/// Standard base64 (RFC 4648 §4) for 32-byte keys, with `wg`'s strict decoding rules.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends the 44 characters of a 32-byte key.
    static func append(key bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 44))
        out.withUnsafeMutableBufferPointer { all in
            let written = encode(bytes, into: UnsafeMutableBufferPointer(rebasing: all[start...]))
            assert(written == 44)
        }
    }

    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: (bytes.count + 2) / 3 * 4) { encode(bytes, into: $0) }
    }

    /// Writes the encoding into `out`, which must hold it; returns the length.
    private static func encode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        alphabet.withUnsafeBufferPointer { table in
            var o = 0
            var i = 0
            func put(_ c: UInt8) { out[o] = c; o += 1 }
            while i + 3 <= bytes.count {
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                put(table[Int(v >> 18)]); put(table[Int(v >> 12 & 63)]); put(table[Int(v >> 6 & 63)]); put(table[Int(v & 63)])
                i += 3
            }
            let rest = bytes.count - i
            if rest > 0 {
                let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
                put(table[Int(v >> 18)]); put(table[Int(v >> 12 & 63)])
                put(rest == 2 ? table[Int(v >> 6 & 63)] : UInt8(ascii: "=")); put(UInt8(ascii: "="))
            }
            return o
        }
    }

    /// A character's six bits, or -1 if it is not in the alphabet. Without branches: the time
    /// does not depend on the character (keys are secrets), and random text mispredicts none.
    /// The values stay within -256...256, so wrapping arithmetic never wraps; it only spares
    /// the overflow check after each of the 20 operations.
    @inline(__always)
    static func sextet(_ byte: UInt8) -> Int32 {
        let c = Int32(byte)
        // All ones when lo <= c <= hi (both differences negative), else zero.
        @inline(__always) func within(_ lo: Int32, _ hi: Int32) -> Int32 { ((lo &- 1 &- c) & (c &- hi &- 1)) >> 8 }
        return -1
            &+ (within(0x41, 0x5A) & (c &- 0x41 &+ 1))   // A-Z: 0...25
            &+ (within(0x61, 0x7A) & (c &- 0x61 &+ 27))  // a-z: 26...51
            &+ (within(0x30, 0x39) & (c &- 0x30 &+ 53))  // 0-9: 52...61
            &+ (within(0x2B, 0x2B) & 63)                 // +: 62
            &+ (within(0x2F, 0x2F) & 64)                 // /: 63
    }

    /// Decodes exactly 44 characters into the 32 bytes of `out`, in place; false if they are
    /// not a key in wg's strict form.
    static func decodeKey(utf8 chars: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard chars.count == 44, chars[43] == UInt8(ascii: "="), out.count == 32 else { return false }
        var invalid: Int32 = 0
        var i = 0, o = 0
        while i < 40 {
            let a = sextet(chars[i]), b = sextet(chars[i + 1]), c = sextet(chars[i + 2]), d = sextet(chars[i + 3])
            invalid |= a | b | c | d
            let v = a << 18 | b << 12 | c << 6 | d
            out[o] = UInt8(truncatingIfNeeded: v >> 16); out[o + 1] = UInt8(truncatingIfNeeded: v >> 8); out[o + 2] = UInt8(truncatingIfNeeded: v)
            i += 4
            o += 3
        }
        let a = sextet(chars[40]), b = sextet(chars[41]), c = sextet(chars[42])
        invalid |= a | b | c
        // The last character carries 2 unused bits, which must be zero.
        invalid |= 0 &- (c & 3)
        let v = a << 18 | b << 12 | c << 6
        out[30] = UInt8(truncatingIfNeeded: v >> 16); out[31] = UInt8(truncatingIfNeeded: v >> 8)
        return invalid >= 0
    }
}

/// Hex as the UAPI protocol uses it.
enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the lowercase hex digits of `bytes`.
    static func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        digits.withUnsafeBufferPointer { digits in
            for b in bytes {
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 15)])
            }
        }
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Appends `value` in decimal, without building a String.
func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
    if value < 10 {
        out.append(0x30 + UInt8(value))
        return
    }
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for UInt64.max's 20 digits
    let count = withUnsafeMutableBytes(of: &digits) { raw in
        var v = value, n = 0
        while v > 0 {
            n += 1
            raw[24 - n] = 0x30 + UInt8(v % 10)
            v /= 10
        }
        return n
    }
    withUnsafeBytes(of: &digits) { raw in out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[(24 - count)...])) }
}

/// An ASCII letter A–Z lowercased; any other byte as it is.
func asciiLowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

/// Whether `bytes` spell `literal`; with `ignoringCase`, A–Z in `bytes` also match a lowercase
/// literal. For matching keys in text without making Strings.
func asciiMatches(_ bytes: some Collection<UInt8>, _ literal: StaticString, ignoringCase: Bool = false) -> Bool {
    let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    guard bytes.count == expected.count else { return false }
    var i = bytes.startIndex
    for byte in expected {
        if (ignoringCase ? asciiLowercased(bytes[i]) : bytes[i]) != byte { return false }
        bytes.formIndex(after: &i)
    }
    return true
}

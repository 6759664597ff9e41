#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension StringProtocol {
    /// Whether `needle` occurs in this text, compared byte by byte. `contains(_:)` with a string
    /// argument comes from _StringProcessing and, unspecialized, costs a scan of every protocol
    /// conformance in the program on its first call: a share of a whole report's time.
    func containsUTF8(_ needle: StaticString) -> Bool {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard let first = pattern.first else { return true }
        let utf8 = self.utf8
        var from = utf8.startIndex
        while let hit = utf8[from...].firstIndex(of: first) {
            if utf8[hit...].starts(with: pattern) { return true }
            from = utf8.index(after: hit)
        }
        return false
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    var trimmingSpaces: Substring {
        let utf8 = self.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start != end, isSpace(utf8[start]) { utf8.formIndex(after: &start) }
        while start != end, isSpace(utf8[utf8.index(before: end)]) { utf8.formIndex(before: &end) }
        return self[start..<end]
    }
}

extension Array where Element == String {
    /// `joined(separator:)` without its first-call cost. The standard library's is not inlinable:
    /// its first call looks up Array's iterator type at run time, which scans every protocol
    /// conformance in the program (200k instructions, 3% of a device report).
    func joinedText(separator: String) -> String {
        var text = ""
        text.reserveCapacity(reduce(0) { $0 + $1.utf8.count + separator.utf8.count })
        for (i, part) in enumerated() {
            if i > 0 { text += separator }
            text += part
        }
        return text
    }
}

/// Calls `body` with the range of each line of `bytes`, split at every LF byte (found with
/// memchr); the last line may be empty. A CR before the LF stays on its line.
func forEachLine(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
    var start = 0
    while true {
        var end = bytes.count
        if start < bytes.count, let hit = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) {
            end = UnsafeRawPointer(hit) - UnsafeRawPointer(bytes.baseAddress!)
        }
        body(start..<end)
        if end == bytes.count { return }
        start = end + 1
    }
}

/// A space, a tab or a carriage return: what the trims take off.
private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }

/// `range` without leading and trailing spaces, tabs and carriage returns.
func trimmingSpaces(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
    var start = range.lowerBound, end = range.upperBound
    while start < end, isSpace(bytes[start]) { start += 1 }
    while start < end, isSpace(bytes[end - 1]) { end -= 1 }
    return start..<end
}

/// What `UInt64(text)` gives for these bytes: an optional sign, then decimal digits ("-0" is 0).
func decimalUInt64(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
    var i = bytes.startIndex
    let negative = i < bytes.endIndex && bytes[i] == 0x2D  // '-'
    if i < bytes.endIndex && (negative || bytes[i] == 0x2B) { i += 1 }  // '+'
    guard i < bytes.endIndex else { return nil }
    var value: UInt64 = 0
    while i < bytes.endIndex {
        let digit = bytes[i] &- 0x30
        guard digit < 10 else { return nil }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
        guard !o1, !o2 else { return nil }
        value = sum
        i += 1
    }
    return negative && value != 0 ? nil : value
}

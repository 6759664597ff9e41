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

extension StringProtocol where SubSequence == Substring {
    /// The text split at every `separator` byte, an ASCII character. `split(separator:)` with a
    /// Character segments the text into grapheme clusters first, which costs several times more;
    /// the one difference is that a CR before LF is left on its line for the caller to trim.
    func splitUTF8(separator: UInt8, omittingEmpty: Bool) -> [Substring] {
        var parts: [Substring] = []
        let utf8 = self.utf8
        var start = utf8.startIndex
        var i = start
        while i != utf8.endIndex {
            if utf8[i] == separator {
                if !omittingEmpty || start != i { parts.append(self[start..<i]) }
                start = utf8.index(after: i)
            }
            utf8.formIndex(after: &i)
        }
        if !omittingEmpty || start != utf8.endIndex { parts.append(self[start..<utf8.endIndex]) }
        return parts
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    var trimmingSpaces: Substring {
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }
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

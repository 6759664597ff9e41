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

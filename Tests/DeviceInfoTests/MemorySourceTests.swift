import Testing
import DeviceInfo

struct MemorySourceTests {
    let source = MemorySource(label: "t", textFiles: [
        "/d/a": "", "/d/a-b": "", "/d/a.c/x": "", "/d/a/c": "", "/d/a/e/f": "", "/d/b": "",
        "/da/x": "", "/e": "",
    ])

    @Test func listsEachEntryOnceInOrder() {
        // "/d/a" sorts before "/d/a-b", and "/d/a/c" after it: "a" must still come out once.
        #expect(source.list("/d") == ["a", "a-b", "a.c", "b"])
        #expect(source.list("/d/") == source.list("/d"))
        #expect(source.list("/") == ["d", "da", "e"])
        #expect(source.list("/d/a") == ["c", "e"])
    }

    @Test func listsNonASCIINamesByTheirBytes() {
        // "é" precomposed (C3 A9) and decomposed (65 CC 81): String's < calls them equal.
        let source = MemorySource(label: "t", textFiles: [
            "/d/\u{E9}/x": "", "/d/e\u{301}/y": "", "/d/f": "", "/d/e": "",
        ])
        #expect(source.list("/d").starts(with: ["e"]) && source.list("/d").contains("f"))
        #expect(source.list("/d/\u{E9}") == ["x"])
        #expect(source.list("/d/e\u{301}") == ["y"])
    }

    @Test func listsNothingForFilesAndMissingDirectories() {
        #expect(source.list("/e") == [])
        #expect(source.list("/missing") == [])
        #expect(source.list("/d/a/c") == [])
    }
}

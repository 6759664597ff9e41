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

    @Test func listsNothingForFilesAndMissingDirectories() {
        #expect(source.list("/e") == [])
        #expect(source.list("/missing") == [])
        #expect(source.list("/d/a/c") == [])
    }
}

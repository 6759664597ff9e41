#if canImport(Glibc)
import Glibc
#endif

extension KeepalivedFileAccess {
    /// The real file system: files up to 1 MiB, globs through glob(3).
    public static let fileSystem = KeepalivedFileAccess(
        read: { path in
            guard let file = fopen(path, "r") else {
                throw KeepalivedConfigError(nil, "\(path): \(String(cString: strerror(errno)))")
            }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16384)
            while true {
                let n = fread(&chunk, 1, chunk.count, file)
                if n == 0 { break }
                bytes += chunk[0..<n]
                if bytes.count > 1 << 20 { throw KeepalivedConfigError(nil, "\(path): larger than 1 MiB") }
            }
            if ferror(file) != 0 { throw KeepalivedConfigError(nil, "\(path): read error") }
            return bytes
        },
        glob: { pattern in
            var result = glob_t()
            defer { globfree(&result) }
            guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
            return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
        })
}

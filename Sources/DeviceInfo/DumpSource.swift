#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A captured dump: a `.tar` or `.tar.gz` whose paths are relative to the device's `/`.
///
/// The whole archive is checked before anything is used: a path with `..` or a leading `/`,
/// a symlink out of the dump, a file over the size cap or a decompression bomb is an error.
public struct DumpSource: DeviceSource {
    /// The unpacked files, read in place in the tar; reading and listing are those of an in-memory source.
    private let contents: MemorySource
    public var label: String { contents.label }
    public var files: [String: [UInt8]] { contents.files }
    public var isLive: Bool { false }

    /// Unpacks an archive already in memory.
    public init(archive: [UInt8], label: String, limits: DumpLimits = DumpLimits()) throws(DumpError) {
        let tar = Gzip.isCompressed(archive) ? try Gzip.decompress(archive, limit: limits.archiveBytes) : archive
        let table = try TarArchive.table(tar, limits: limits)
        if table.isEmpty { throw .notADump("\(label): the archive holds no files") }
        contents = MemorySource(label: label, table: table)
    }

    /// Reads and unpacks the dump at `path`.
    public init(path: String, limits: DumpLimits = DumpLimits()) throws(DumpError) {
        let bytes: [UInt8]
        switch ConfinedPath.open(path, in: "/", flags: O_RDONLY) {
        case .failure(let errno):
            throw .notADump("\(path): \(errno)")
        case .success(let fd):
            defer { try? fd.close() }
            switch ConfinedPath.readAll(fd, limit: limits.archiveBytes) {
            case .success(let read): bytes = read
            case .failure(.tooLarge): throw .archiveTooLarge(limit: limits.totalBytes)
            case .failure(.unreadable(let errno)): throw .notADump("\(path): \(errno)")
            }
        }
        do {
            try self.init(archive: bytes, label: "dump \(path)", limits: limits)
        } catch {
            throw .notADump("\(path): \(error)")
        }
    }

    public func read(_ path: String) -> Result<[UInt8], ReadFailure> { contents.read(path) }
    public func list(_ path: String) -> [String] { contents.list(path) }
    public func text(_ path: String) -> Result<String, ReadFailure> { contents.text(path) }
}

/// Collects the files `labctl device` reads into a `.tar.gz` dump.
public enum DeviceCapture {
    /// Every file the report uses, found in `source`: the paths are as on the device.
    public static func paths(in source: some DeviceSource) -> [String] {
        var paths = ["/proc/cpuinfo", "/proc/meminfo", "/proc/version", "/proc/cmdline", "/target",
                     "/proc/sys/kernel/ostype", "/proc/sys/kernel/osrelease", "/proc/sys/kernel/version",
                     "/proc/sys/kernel/hostname", "/proc/sys/kernel/arch",
                     "/sys/firmware/devicetree/base/model", "/sys/firmware/devicetree/base/compatible",
                     "/sys/devices/system/node/online", "/sys/devices/system/node/possible"]
        for name in ["online", "possible", "present", "offline", "isolated", "kernel_max"] {
            paths.append("/sys/devices/system/cpu/\(name)")
        }
        for dir in source.list("/sys/devices/system/cpu/vulnerabilities") {
            paths.append("/sys/devices/system/cpu/vulnerabilities/\(dir)")
        }
        for node in source.list("/sys/devices/system/node") where node.hasPrefix("node") {
            paths.append("/sys/devices/system/node/\(node)/cpulist")
            paths.append("/sys/devices/system/node/\(node)/cpumap")
        }
        for cpu in source.list("/sys/devices/system/cpu") where CPUTopology.cpuNumber(cpu) != nil {
            let base = "/sys/devices/system/cpu/\(cpu)"
            paths.append(base + "/online")
            for name in source.list(base + "/topology") { paths.append("\(base)/topology/\(name)") }
            for index in source.list(base + "/cache") where index.hasPrefix("index") {
                for name in ["level", "type", "size", "ways_of_associativity", "coherency_line_size",
                             "number_of_sets", "physical_line_partition", "shared_cpu_list", "shared_cpu_map", "id"] {
                    paths.append("\(base)/cache/\(index)/\(name)")
                }
            }
            for name in ["cpuinfo_max_freq", "cpuinfo_min_freq", "scaling_cur_freq"] {
                paths.append("\(base)/cpufreq/\(name)")
            }
        }
        for soc in source.list("/sys/devices") where SoCInfo.isSoCDirectory(soc) {
            for name in source.list("/sys/devices/\(soc)") where name != "uevent" {
                paths.append("/sys/devices/\(soc)/\(name)")
            }
        }
        return paths
    }

    /// A gzip-compressed tar of every readable file from ``paths(in:)``. Unreadable ones are left out.
    /// The files come in byte order of their paths, the order a reader's table keeps them in, so
    /// that reading the dump needs no sort.
    public static func archive(of source: some DeviceSource, modificationTime: Int) -> (archive: [UInt8], files: Int) {
        var writer = TarWriter(modificationTime: modificationTime)
        var count = 0
        let sorted = paths(in: source).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (i, path) in sorted.enumerated() where i == 0 || sorted[i - 1] != path {
            guard case .success(let bytes) = source.read(path) else { continue }
            writer.add(path: path, contents: bytes)
            count += 1
        }
        return (Gzip.compress(writer.finished()), count)
    }
}

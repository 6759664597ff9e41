// libFuzzer target: the soc0 images file, SoC attribute decoding, /proc/version and /proc/cmdline.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImages(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = FirmwareImage.parse(text)
    _ = KernelVersion(parsing: text)
    _ = KernelCommandLine(parsing: text)
    let lines = text.split(separator: "\n").prefix(64)
    let attributes = lines.map { line -> SoCAttribute in
        let parts = line.split(separator: "=", maxSplits: 1)
        return SoCAttribute(name: String(parts.first ?? ""), value: parts.count > 1 ? String(parts[1]) : "")
    }
    _ = SoCInfo(directory: "soc0", attributes: attributes + [SoCAttribute(name: "vendor", value: "Qualcomm")]).chipName
    return 0
}

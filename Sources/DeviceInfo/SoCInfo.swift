/// One SoC attribute as read from `/sys/devices/socN/NAME`.
public struct SoCAttribute: Sendable, Hashable, Encodable {
    public let name: String
    public let value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One `/sys/devices/socN` attribute with what its raw value means, where that is known.
public struct DecodedAttribute: Sendable, Hashable, Encodable {
    public let name: String
    /// The file's content, always kept.
    public let raw: String
    /// The meaning, or nil where it is unknown (never guessed).
    public let decoded: String?
}

/// The SoC facts of one `/sys/devices/socN` directory, generic and Qualcomm vendor attributes alike.
public struct SoCInfo: Sendable, Hashable, Encodable {
    /// `soc0`, `soc1`, …: the directories below `/sys/devices` that hold SoC attributes.
    public static func isSoCDirectory(_ name: String) -> Bool {
        name.count > 3 && name.hasPrefix("soc") && name.dropFirst(3).allSatisfy { $0.isNumber }
    }

    public let directory: String
    public let attributes: [DecodedAttribute]

    public init(directory: String, attributes: [SoCAttribute]) {
        self.directory = directory
        let values = Dictionary(attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        self.attributes = attributes.map { a in
            DecodedAttribute(name: a.name, raw: a.value, decoded: SoCInfo.decode(a.name, a.value, all: values))
        }
    }

    public func attribute(_ name: String) -> DecodedAttribute? { attributes.first { $0.name == name } }

    /// The chip name: Qualcomm's `chip_name`, else the decoded soc_id, else `machine`.
    public var chipName: String? {
        attribute("chip_name")?.raw ?? attribute("soc_id")?.decoded ?? attribute("machine")?.raw
    }

    static func decode(_ name: String, _ raw: String, all: [String: String]) -> String? {
        switch name {
        case "soc_id":
            if let jep = JEP106SoCID(raw) { return jep.description }
            guard let id = Int(raw) else { return nil }
            guard let chip = QualcommTables.socNames[id], isQualcomm(all) else { return nil }
            if let vendor = QualcommTables.vendorSoCNames[id] {
                return "\(chip) (Qualcomm vendor kernels: \(vendor.codeName))"
            }
            return chip
        case "pmic_model":
            guard let value = parseNumber(raw), isQualcomm(all) else { return nil }
            let index = Int(value & 0xffff)
            guard let model = QualcommTables.pmicModels[index] else { return "model index \(index) (not in the table)" }
            return "\(model) (model index \(index), upper half 0x\(String(value >> 16, radix: 16)))"
        case "pmic_die_revision", "platform_version":
            guard let value = parseNumber(raw), isQualcomm(all) else { return nil }
            return "\(value >> 16).\(value & 0xffff)"
        case "hw_platform_id", "platform_id":
            guard let value = Int(raw), let board = QualcommTables.boardTypes[value] else { return nil }
            return board
        case "raw_id", "raw_version", "foundry_id", "select_image", "platform_subtype_id":
            return nil
        default:
            // Hex counts such as num_clusters=0x1 read better in decimal.
            if raw.hasPrefix("0x"), raw.count <= 10, let value = parseNumber(raw), value != 0xffff_ffff,
               name.hasPrefix("num") || name.hasPrefix("nproduct") || name.hasPrefix("nmodem") || name.hasPrefix("raw_device") || name == "chip_family" {
                return String(value)
            }
            return nil
        }
    }

    private static func isQualcomm(_ all: [String: String]) -> Bool {
        (all["vendor"] ?? "").lowercased().containsUTF8("qualcomm") || (all["family"] ?? "").hasPrefix("Snapdragon")
            || all["family"] == "Qualcomm" || all["chip_family"] != nil
    }

    static func parseNumber(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }
}

/// An SMCCC SoC id, `jep106:BBMM:SSSS`: JEP106 bank and manufacturer code, then the SoC number.
public struct JEP106SoCID: Sendable, Hashable, CustomStringConvertible {
    /// Continuation-code count (bank - 1).
    public let continuation: Int
    public let manufacturer: Int
    public let soc: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 3, parts[0] == "jep106", parts[1].count == 4,
              let code = Int(parts[1], radix: 16), let soc = Int(parts[2], radix: 16) else { return nil }
        continuation = code >> 8
        manufacturer = code & 0xff
        self.soc = soc
    }

    public var description: String {
        "JEP106 bank \(continuation + 1), manufacturer 0x\(String(manufacturer, radix: 16)), SoC 0x\(String(soc, radix: 16))"
    }
}

/// One slot of Qualcomm's `/sys/devices/soc0/images`.
public struct FirmwareImage: Sendable, Hashable, Encodable {
    public let slot: Int
    /// The SMEM image table's name for the slot (boot, tz, mpss, …), where known.
    public let name: String?
    /// Empty when the slot is reserved but unused.
    public let crm: String
    public let variant: String
    public let version: String

    /// Parses the `images` file. Unknown lines are ignored; a slot needs only its `N:` line.
    public static func parse(_ text: String) -> [FirmwareImage] {
        var images: [FirmwareImage] = []
        var slot: Int?
        var fields: [String: String] = [:]
        func flush() {
            if let s = slot {
                images.append(FirmwareImage(slot: s, name: QualcommTables.imageNames[s], crm: fields["CRM"] ?? "",
                                            variant: fields["Variant"] ?? "", version: fields["Version"] ?? ""))
            }
            fields = [:]
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let trimmed = line.trimmingSpaces
            if trimmed.hasSuffix(":"), let n = Int(trimmed.dropLast()), line.first != " " && line.first != "\t" {
                flush()
                slot = n
                continue
            }
            guard slot != nil, let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = String(trimmed[..<colon])
            fields[key] = String(trimmed[trimmed.index(after: colon)...].trimmingSpaces)
        }
        flush()
        return images
    }
}

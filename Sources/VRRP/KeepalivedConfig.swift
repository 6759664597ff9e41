/// The keepalived.conf subset that real VRRP setups use, with keepalived's meanings and defaults.
public struct KeepalivedConfig: Sendable, Hashable {
    public struct GlobalDefinitions: Sendable, Hashable {
        public var enableScriptSecurity = false
        /// `script_user USER [GROUP]`: who runs scripts that name no user.
        public var scriptUser: String?
        public var scriptGroup: String?
        public var routerID: String?
        /// `vrrp_version`: the default for instances (keepalived's default is 2; IPv6 needs 3).
        public var vrrpVersion: VRRPVersion?
        /// `vrrp_rt_priority` (1–99): run the speaker under SCHED_RR at this priority.
        public var realtimePriority: Int?
        /// `vrrp_rlimit_rttime`: CPU time an SCHED_RR speaker may use without blocking (keepalived: 10 ms).
        public var realtimeCPULimit = Microseconds(10_000)
        /// `vrrp_priority` (−20–19): the speaker's nice value.
        public var niceValue: Int?
        /// `vrrp_no_swap`: lock the speaker's memory so a takeover never waits on a page-in.
        public var lockMemory = false
    }

    /// A `vrrp_script`: a health check run every `interval`.
    public struct TrackScript: Sendable, Hashable {
        public var name: String
        /// The command line, split into words as keepalived splits it.
        public var command: [String]
        public var interval: Microseconds = .seconds(1)
        /// Unset: the interval.
        public var timeout: Microseconds?
        public var fall = 1
        public var rise = 1
        /// 0: a failure puts the instance in FAULT. Otherwise added to the priority while the
        /// script succeeds (positive) or while it fails (negative).
        public var weight = 0
        public var user: String?
        public var group: String?
        public var location: ConfigLocation
    }

    /// A tracked script or interface with the instance's weight for it (nil: the script's own).
    public struct Tracked: Sendable, Hashable {
        public var name: String
        public var weight: Int?
        public var location: ConfigLocation
    }

    /// An address in `virtual_ipaddress`: `ADDRESS[/LEN] [dev IF] [label L]`.
    public struct VirtualAddress: Sendable, Hashable, CustomStringConvertible {
        public var address: VRRPAddress
        public var prefixLength: UInt8
        public var device: String?
        public var label: String?
        public var description: String { "\(address)/\(prefixLength)" }
    }

    public enum InitialState: String, Sendable, Hashable { case master = "MASTER", backup = "BACKUP" }

    /// labctl's `wireguard { }` block in a `vrrp_instance`: a WireGuard interface that is up only
    /// on the master, and the channel on which the master publishes its peers' endpoints.
    public struct WireGuardBinding: Sendable, Hashable {
        /// `interface wg1`.
        public var interface: String
        /// `address 2001:db8:2::1/64`: tunnel addresses to restore on every takeover. None: the
        /// addresses the interface has when the speaker starts.
        public var addresses: [VirtualAddress] = []
        /// `route 2001:db8:5::/48`: routes through the interface to restore on every takeover (as
        /// wg-quick adds for peers' allowed IPs). None: the routes it has when the speaker starts.
        public var routes: [VirtualAddress] = []
        /// `sync_key FILE`: a base64 32-byte key (`labctl wg genpsk`). None: no endpoint sync.
        public var syncKeyFile: String?
        /// `sync_port N`: the UDP port of the endpoint sync (default 51821).
        public var syncPort: UInt16 = 51821
        /// `sync_peer { ADDRESS … }`: where the master sends. None: the instance's unicast peers,
        /// or else the VRRP multicast group.
        public var syncPeers: [VRRPAddress] = []
        public var location: ConfigLocation
    }

    public struct Instance: Sendable, Hashable {
        public var name: String
        public var interface: String
        public var state: InitialState = .backup
        public var virtualRouterID: UInt8
        public var priority: UInt8 = 100
        public var advertisementInterval: Microseconds = .seconds(1)
        public var version: VRRPVersion
        public var preempt = true
        public var preemptDelay = Microseconds(0)
        public var accept = false
        public var virtualAddresses: [VirtualAddress]
        public var unicastSource: VRRPAddress?
        public var unicastPeers: [VRRPAddress] = []
        /// `use_vmac [NAME]`: send from a macvlan with the virtual MAC 00:00:5e:00:01|02:VRID;
        /// "" when no name was given (see ``virtualMACInterface``).
        public var virtualMAC: String?
        /// v2 `authentication { auth_type PASS; auth_pass SECRET }`: the first 8 bytes of SECRET,
        /// as keepalived sends them (a multi-byte character may be cut).
        public var authenticationPassword: [UInt8]?
        public var trackScripts: [Tracked] = []
        public var trackInterfaces: [Tracked] = []
        public var notify: String?
        public var notifyMaster: String?
        public var notifyBackup: String?
        public var notifyFault: String?
        public var notifyStop: String?
        /// labctl's extension: the WireGuard interface this instance drives.
        public var wireGuard: WireGuardBinding?
        public var location: ConfigLocation

        public var isIPv6: Bool { virtualAddresses.first?.address.isIPv6 ?? false }

        /// The macvlan of `use_vmac`: its name (keepalived's default is vrrp.VRID) and MAC.
        public var virtualMACInterface: VRRPVirtualMAC? {
            virtualMAC.map { VRRPVirtualMAC(virtualRouterID: virtualRouterID, ipv6: isIPv6, interfaceName: $0.isEmpty ? nil : $0) }
        }

        /// Where advertisements are sent and received and VIPs without `dev` go: the virtual MAC
        /// interface with `use_vmac`, else `interface`.
        public var vrrpInterface: String { virtualMACInterface?.interfaceName ?? interface }
    }

    public var global = GlobalDefinitions()
    public var scripts: [TrackScript] = []
    public var instances: [Instance] = []

    public init() {}

    /// Parses `path` and everything it includes.
    public static func load(_ path: String, access: KeepalivedFileAccess) throws -> KeepalivedConfig {
        let statements = try KeepalivedSyntax.statements(KeepalivedSyntax.tokens(of: path, access: access))
        return try KeepalivedConfigReader().read(statements)
    }

    /// Parses text as if it were the file `name`; includes resolve through `access`.
    public static func parse(_ text: String, name: String = "keepalived.conf",
                             access: KeepalivedFileAccess = .memory([:])) throws -> KeepalivedConfig {
        let combined = KeepalivedFileAccess(
            read: { $0 == name ? Array(text.utf8) : try access.read($0) },
            glob: { $0 == name ? [name] : access.glob($0) })
        return try load(name, access: combined)
    }
}

/// Interprets statements: each keyword, its arguments, and the references between blocks.
private struct KeepalivedConfigReader {
    typealias Statement = KeepalivedStatement
    typealias Err = KeepalivedConfigError

    func read(_ statements: [Statement]) throws -> KeepalivedConfig {
        var config = KeepalivedConfig()
        for s in statements {
            switch s.keyword {
            case "global_defs": config.global = try globalDefinitions(s)
            case "vrrp_script":
                let script = try trackScript(s)
                if config.scripts.contains(where: { $0.name == script.name }) {
                    throw Err(s.location, "vrrp_script \(script.name) is defined twice")
                }
                config.scripts.append(script)
            case "vrrp_instance":
                let instance = try instance(s, defaultVersion: config.global.vrrpVersion)
                if config.instances.contains(where: { $0.name == instance.name }) {
                    throw Err(s.location, "vrrp_instance \(instance.name) is defined twice")
                }
                config.instances.append(instance)
            default:
                throw Err(s.location, "unknown keyword '\(s.keyword)' at the top level")
            }
        }
        var seen: [String: ConfigLocation] = [:]
        for instance in config.instances {
            for tracked in instance.trackScripts where !config.scripts.contains(where: { $0.name == tracked.name }) {
                throw Err(tracked.location, "track_script \(tracked.name): no vrrp_script of that name")
            }
            if let vmac = instance.virtualMACInterface {
                if let other = seen["vmac/" + vmac.interfaceName] {
                    throw Err(instance.location, "use_vmac interface \(vmac.interfaceName) is already used by the instance at \(other)")
                }
                seen["vmac/" + vmac.interfaceName] = instance.location
            }
            let key = "\(instance.interface)/\(instance.virtualRouterID)/\(instance.isIPv6)"
            if let other = seen[key] {
                throw Err(instance.location, "virtual_router_id \(instance.virtualRouterID) on \(instance.interface) is already used at \(other)")
            }
            seen[key] = instance.location
            if let wg = instance.wireGuard {
                if let other = seen["wireguard/" + wg.interface] {
                    throw Err(wg.location, "wireguard interface \(wg.interface) is already driven by the instance at \(other)")
                }
                seen["wireguard/" + wg.interface] = instance.location
            }
        }
        return config
    }

    /// What the kernel accepts as a link name: 1–15 bytes, no '/', no white space.
    static func isInterfaceName(_ name: String) -> Bool {
        (1...15).contains(name.utf8.count) && !name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 <= 0x20 })
    }

    // MARK: blocks

    func globalDefinitions(_ s: Statement) throws -> KeepalivedConfig.GlobalDefinitions {
        var g = KeepalivedConfig.GlobalDefinitions()
        for item in try block(s) {
            switch item.keyword {
            case "enable_script_security": try none(item); g.enableScriptSecurity = true
            case "script_user":
                try count(item, 1...2)
                g.scriptUser = item.arguments[0]
                g.scriptGroup = item.arguments.count > 1 ? item.arguments[1] : nil
            case "router_id": try count(item, 1...1); g.routerID = item.arguments[0]
            case "vrrp_version": g.vrrpVersion = try version(item)
            case "vrrp_rt_priority": g.realtimePriority = try integer(item, 1...99)
            case "vrrp_rlimit_rttime", "vrrp_rlimit_rtime":
                g.realtimeCPULimit = Microseconds(Int64(try integer(item, 1...60_000_000)))
            case "vrrp_priority": g.niceValue = try integer(item, -20...19)
            case "vrrp_no_swap": try none(item); g.lockMemory = true
            default: throw unknown(item, in: "global_defs")
            }
        }
        return g
    }

    func trackScript(_ s: Statement) throws -> KeepalivedConfig.TrackScript {
        try count(s, 1...1)
        var script = KeepalivedConfig.TrackScript(name: s.arguments[0], command: [], location: s.location)
        for item in try block(s) {
            switch item.keyword {
            case "script":
                try count(item, 1...Int.max)
                script.command = try KeepalivedCommandLine.words(item.arguments.joined(separator: " "), item.location)
            case "interval": script.interval = try seconds(item, minimum: 1)
            case "timeout": script.timeout = try seconds(item, minimum: 1)
            case "fall": script.fall = try integer(item, 1...1_000_000)
            case "rise": script.rise = try integer(item, 1...1_000_000)
            case "weight":
                try count(item, 1...2)
                guard let w = Int(item.arguments[0]), (-253...253).contains(w) else {
                    throw Err(item.location, "weight '\(item.arguments[0])' must be an integer from -253 to 253")
                }
                if item.arguments.count == 2 && item.arguments[1] != "reverse" {
                    throw Err(item.location, "weight takes an integer and optionally 'reverse', not '\(item.arguments[1])'")
                }
                script.weight = item.arguments.count == 2 ? -w : w
            case "user":
                try count(item, 1...2)
                script.user = item.arguments[0]
                script.group = item.arguments.count > 1 ? item.arguments[1] : nil
            default: throw unknown(item, in: "vrrp_script")
            }
        }
        guard !script.command.isEmpty else { throw Err(s.location, "vrrp_script \(script.name) has no script") }
        return script
    }

    func instance(_ s: Statement, defaultVersion: VRRPVersion?) throws -> KeepalivedConfig.Instance {
        try count(s, 1...1)
        var interface: String?, vrid: UInt8?, version: VRRPVersion?
        var vmacLocation: ConfigLocation?
        var addresses: [KeepalivedConfig.VirtualAddress] = []
        var i = KeepalivedConfig.Instance(name: s.arguments[0], interface: "", virtualRouterID: 0, version: .v3,
                                          virtualAddresses: [], location: s.location)
        var intervalLocation: ConfigLocation?
        for item in try block(s) {
            switch item.keyword {
            case "interface": try count(item, 1...1); interface = item.arguments[0]
            case "state":
                try count(item, 1...1)
                guard let state = KeepalivedConfig.InitialState(rawValue: item.arguments[0].uppercased()) else {
                    throw Err(item.location, "state '\(item.arguments[0])' must be MASTER or BACKUP")
                }
                i.state = state
            case "virtual_router_id": vrid = UInt8(try integer(item, 1...255))
            case "priority": i.priority = UInt8(try integer(item, 1...255))
            case "advert_int":
                i.advertisementInterval = try seconds(item, minimum: 1)
                intervalLocation = item.location
            case "version": version = try self.version(item)
            case "nopreempt": try none(item); i.preempt = false
            case "preempt": try none(item); i.preempt = true
            case "preempt_delay": i.preemptDelay = try seconds(item, minimum: 0, maximum: 1000 * 1_000_000)
            case "accept": try none(item); i.accept = true
            case "no_accept": try none(item); i.accept = false
            case "virtual_ipaddress":
                try none(item)
                for entry in try block(item) { addresses.append(try virtualAddress(entry)) }
            case "unicast_src_ip": try count(item, 1...1); i.unicastSource = try address(item.arguments[0], item.location)
            case "unicast_peer":
                try none(item)
                for peer in try block(item) {
                    guard peer.arguments.isEmpty, peer.block == nil else { throw Err(peer.location, "unicast_peer takes one address per line") }
                    i.unicastPeers.append(try address(peer.keyword, peer.location))
                }
            case "use_vmac":
                try count(item, 0...1)
                if let name = item.arguments.first, !Self.isInterfaceName(name) {
                    throw Err(item.location, "use_vmac: '\(name)' is not an interface name")
                }
                i.virtualMAC = item.arguments.first ?? ""
                vmacLocation = item.location
            case "authentication":
                try none(item)
                var type: String?, pass: String?
                for a in try block(item) {
                    switch a.keyword {
                    case "auth_type": try count(a, 1...1); type = a.arguments[0]
                    case "auth_pass": try count(a, 1...1); pass = a.arguments[0]
                    default: throw unknown(a, in: "authentication")
                    }
                }
                guard type == "PASS" else { throw Err(item.location, "authentication: only auth_type PASS is supported") }
                guard let pass, !pass.isEmpty else { throw Err(item.location, "authentication: auth_pass is missing") }
                i.authenticationPassword = Array(pass.utf8.prefix(8))
            case "track_script": i.trackScripts = try tracked(item)
            case "track_interface": i.trackInterfaces = try tracked(item)
            case "notify": i.notify = try scriptLine(item)
            case "notify_master": i.notifyMaster = try scriptLine(item)
            case "notify_backup": i.notifyBackup = try scriptLine(item)
            case "notify_fault": i.notifyFault = try scriptLine(item)
            case "notify_stop": i.notifyStop = try scriptLine(item)
            case "wireguard": i.wireGuard = try wireGuard(item)
            default: throw unknown(item, in: "vrrp_instance")
            }
        }
        guard let interface else { throw Err(s.location, "vrrp_instance \(i.name) has no interface") }
        guard let vrid else { throw Err(s.location, "vrrp_instance \(i.name) has no virtual_router_id") }
        guard let first = addresses.first else { throw Err(s.location, "vrrp_instance \(i.name) has no virtual_ipaddress") }
        if let mixed = addresses.first(where: { $0.address.isIPv6 != first.address.isIPv6 }) {
            throw Err(s.location, "vrrp_instance \(i.name) mixes IPv4 and IPv6 addresses (\(first) and \(mixed))")
        }
        i.interface = interface
        i.virtualRouterID = vrid
        if let vmacLocation, !i.unicastPeers.isEmpty {
            throw Err(vmacLocation, "use_vmac with unicast_peer needs vmac_xmit_base, which labctl does not support")
        }
        if let vmacLocation, i.virtualMAC == interface {
            throw Err(vmacLocation, "use_vmac: \(interface) is the instance's own interface")
        }
        i.virtualAddresses = addresses
        i.version = version ?? (first.address.isIPv6 ? .v3 : defaultVersion ?? .v2)
        if i.version == .v2 && first.address.isIPv6 { throw Err(s.location, "vrrp_instance \(i.name): VRRP version 2 has no IPv6") }
        if i.version == .v2 && i.advertisementInterval.value % 1_000_000 != 0 {
            throw Err(intervalLocation ?? s.location, "advert_int must be whole seconds with version 2")
        }
        if i.version == .v3 && i.advertisementInterval > .centiseconds(4095) {
            throw Err(intervalLocation ?? s.location, "advert_int must be at most 40.95 seconds with version 3")
        }
        if i.authenticationPassword != nil && i.version == .v3 {
            throw Err(s.location, "vrrp_instance \(i.name): authentication exists in version 2 only")
        }
        for peer in i.unicastPeers where peer.isIPv6 != first.address.isIPv6 {
            throw Err(s.location, "unicast_peer \(peer) is not of the virtual addresses' family")
        }
        if let source = i.unicastSource, source.isIPv6 != first.address.isIPv6 {
            throw Err(s.location, "unicast_src_ip \(source) is not of the virtual addresses' family")
        }
        if i.priority == 255 && !i.preempt { throw Err(s.location, "nopreempt makes no sense for the address owner (priority 255)") }
        if let wg = i.wireGuard {
            for peer in wg.syncPeers where peer.isIPv6 != first.address.isIPv6 {
                throw Err(wg.location, "sync_peer \(peer) is not of the virtual addresses' family")
            }
        }
        return i
    }

    func wireGuard(_ s: Statement) throws -> KeepalivedConfig.WireGuardBinding {
        try none(s)
        var binding = KeepalivedConfig.WireGuardBinding(interface: "", location: s.location)
        for item in try block(s) {
            switch item.keyword {
            case "interface":
                try count(item, 1...1)
                guard Self.isInterfaceName(item.arguments[0]) else {
                    throw Err(item.location, "interface '\(item.arguments[0])' is not an interface name")
                }
                binding.interface = item.arguments[0]
            case "address":
                try count(item, 1...1)
                binding.addresses.append(try virtualAddress(KeepalivedStatement(keyword: item.arguments[0], arguments: [], block: nil, location: item.location)))
            case "route":
                try count(item, 1...1)
                let route = try virtualAddress(KeepalivedStatement(keyword: item.arguments[0], arguments: [], block: nil, location: item.location))
                let bytes = route.address.bytes
                let hostBitsSet = bytes.indices.contains { k in
                    let kept = max(0, min(8, Int(route.prefixLength) - k * 8))
                    return bytes[k] & ~UInt8(truncatingIfNeeded: 0xFF00 >> kept) != 0
                }
                guard !hostBitsSet else { throw Err(item.location, "route '\(item.arguments[0])' has bits set beyond its prefix length") }
                binding.routes.append(route)
            case "sync_key":
                try count(item, 1...1)
                guard item.arguments[0].hasPrefix("/") else { throw Err(item.location, "sync_key '\(item.arguments[0])' must be an absolute path") }
                binding.syncKeyFile = item.arguments[0]
            case "sync_port": binding.syncPort = UInt16(try integer(item, 1...65535))
            case "sync_peer":
                try none(item)
                for peer in try block(item) {
                    guard peer.arguments.isEmpty, peer.block == nil else { throw Err(peer.location, "sync_peer takes one address per line") }
                    binding.syncPeers.append(try address(peer.keyword, peer.location))
                }
            default: throw unknown(item, in: "wireguard")
            }
        }
        guard !binding.interface.isEmpty else { throw Err(s.location, "wireguard has no interface") }
        return binding
    }

    // MARK: items

    func virtualAddress(_ s: Statement) throws -> KeepalivedConfig.VirtualAddress {
        guard s.block == nil else { throw Err(s.location, "unexpected block after \(s.keyword)") }
        let parts = s.keyword.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw Err(s.location, "'\(s.keyword)' is not an address") }
        let address = try address(String(parts[0]), s.location)
        let maximum = address.isIPv6 ? 128 : 32
        var length = UInt8(maximum)
        if parts.count == 2 {
            guard let l = Int(parts[1]), (0...maximum).contains(l) else { throw Err(s.location, "prefix length in '\(s.keyword)' must be 0 to \(maximum)") }
            length = UInt8(l)
        }
        var v = KeepalivedConfig.VirtualAddress(address: address, prefixLength: length)
        var k = 0
        while k < s.arguments.count {
            let option = s.arguments[k]
            guard k + 1 < s.arguments.count else { throw Err(s.location, "'\(option)' needs a value") }
            switch option {
            case "dev": v.device = s.arguments[k + 1]
            case "label": v.label = s.arguments[k + 1]
            default: throw Err(s.location, "unknown virtual_ipaddress option '\(option)'")
            }
            k += 2
        }
        return v
    }

    func tracked(_ s: Statement) throws -> [KeepalivedConfig.Tracked] {
        try none(s)
        return try block(s).map { item in
            guard item.block == nil else { throw Err(item.location, "unexpected block after \(item.keyword)") }
            switch item.arguments.count {
            case 0: return .init(name: item.keyword, weight: nil, location: item.location)
            case 2 where item.arguments[0] == "weight":
                guard let w = Int(item.arguments[1]), (-254...254).contains(w) else {
                    throw Err(item.location, "weight '\(item.arguments[1])' must be an integer from -254 to 254")
                }
                return .init(name: item.keyword, weight: w, location: item.location)
            default: throw Err(item.location, "expected '\(item.keyword)' or '\(item.keyword) weight N'")
            }
        }
    }

    func scriptLine(_ s: Statement) throws -> String {
        try count(s, 1...Int.max)
        guard s.block == nil else { throw Err(s.location, "unexpected block after \(s.keyword)") }
        let line = s.arguments.joined(separator: " ")
        _ = try KeepalivedCommandLine.words(line, s.location)
        return line
    }

    // MARK: values

    func block(_ s: Statement) throws -> [Statement] {
        guard let block = s.block else { throw Err(s.location, "\(s.keyword) needs a { } block") }
        return block
    }

    func none(_ s: Statement) throws { try count(s, 0...0) }

    func count(_ s: Statement, _ range: ClosedRange<Int>) throws {
        guard range.contains(s.arguments.count) else {
            let what = range.upperBound == 0 ? "no value" : range.lowerBound == range.upperBound ? "\(range.lowerBound) value\(range.lowerBound == 1 ? "" : "s")" : "\(range.lowerBound) to \(range.upperBound == Int.max ? "any number of" : String(range.upperBound)) values"
            throw Err(s.location, "\(s.keyword) takes \(what), got '\(s.arguments.joined(separator: " "))'")
        }
        if s.block != nil && !["global_defs", "vrrp_script", "vrrp_instance", "virtual_ipaddress", "unicast_peer", "track_script", "track_interface", "authentication", "wireguard", "sync_peer"].contains(s.keyword) {
            throw Err(s.location, "unexpected block after \(s.keyword)")
        }
    }

    func integer(_ s: Statement, _ range: ClosedRange<Int>) throws -> Int {
        try count(s, 1...1)
        guard let v = Int(s.arguments[0]), range.contains(v) else {
            throw Err(s.location, "\(s.keyword) '\(s.arguments[0])' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    func version(_ s: Statement) throws -> VRRPVersion {
        VRRPVersion(rawValue: try integer(s, 2...3))!
    }

    /// Seconds with up to six decimals, e.g. `1`, `0.01`.
    func seconds(_ s: Statement, minimum: Int64, maximum: Int64 = 3600 * 1_000_000) throws -> Microseconds {
        try count(s, 1...1)
        let text = s.arguments[0]
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        func fail() -> Err { Err(s.location, "\(s.keyword) '\(text)' must be a number of seconds") }
        guard parts.count <= 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isASCII), let whole = Int64(parts[0]), whole >= 0, whole <= 1_000_000 else { throw fail() }
        var micro = whole * 1_000_000
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 6, f.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw fail() }
            micro += Int64(f + String(repeating: "0", count: 6 - f.count))!
        }
        guard micro >= minimum, micro <= maximum else {
            throw Err(s.location, "\(s.keyword) '\(text)' is out of range")
        }
        return Microseconds(micro)
    }

    func address(_ text: String, _ location: ConfigLocation) throws -> VRRPAddress {
        guard let a = VRRPAddress(parsing: text) else { throw Err(location, "'\(text)' is not an IPv4 or IPv6 address") }
        return a
    }

    func unknown(_ s: Statement, in block: String) -> Err {
        Err(s.location, "unknown keyword '\(s.keyword)' in \(block)")
    }
}

/// Script lines as keepalived runs them.
enum KeepalivedCommandLine {
    /// keepalived splits a script line on spaces; single quotes group words.
    static func words(_ line: String, _ location: ConfigLocation) throws -> [String] {
        var words: [String] = [], current = "", inQuote = false, started = false
        for ch in line {
            if ch == "'" { inQuote.toggle(); started = true; continue }
            if ch == " " && !inQuote {
                if started { words.append(current); current = ""; started = false }
                continue
            }
            current.append(ch)
            started = true
        }
        guard !inQuote else { throw KeepalivedConfigError(location, "unterminated single quote in '\(line)'") }
        if started { words.append(current) }
        guard let first = words.first, first.hasPrefix("/") else {
            throw KeepalivedConfigError(location, "script '\(line)' must start with an absolute path")
        }
        return words
    }
}

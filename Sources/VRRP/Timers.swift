/// VRRP protocol versions.
public enum VRRPVersion: Int, Sendable, Hashable, Codable {
    /// RFC 3768: IPv4 only, intervals in whole seconds.
    case v2 = 2
    /// RFC 5798 / RFC 9568: IPv4 and IPv6, intervals in centiseconds.
    case v3 = 3
}

/// A span of time in microseconds, the unit every VRRP timer is computed in.
public struct Microseconds: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var value: Int64
    public init(_ value: Int64) { self.value = value }
    public static func seconds(_ s: Int64) -> Microseconds { Microseconds(s * 1_000_000) }
    public static func centiseconds(_ cs: Int64) -> Microseconds { Microseconds(cs * 10_000) }
    public static func < (a: Microseconds, b: Microseconds) -> Bool { a.value < b.value }
    public static func + (a: Microseconds, b: Microseconds) -> Microseconds { Microseconds(a.value + b.value) }
    public static func - (a: Microseconds, b: Microseconds) -> Microseconds { Microseconds(a.value - b.value) }
    /// Seconds with six decimals, e.g. `3.609375`.
    public var description: String {
        let sign = value < 0 ? "-" : ""
        let v = value.magnitude
        let frac = String(v % 1_000_000)
        return "\(sign)\(v / 1_000_000).\(String(repeating: "0", count: 6 - frac.count))\(frac)"
    }
}

/// The timers a VRRP router derives from its priority and advertisement interval (RFC 5798 §6.1).
public struct VRRPTimers: Sendable, Hashable, Codable {
    public let version: VRRPVersion
    public let priority: UInt8
    public let advertisementInterval: Microseconds
    /// Skew_Time: how much later a lower-priority backup declares the master down.
    public let skewTime: Microseconds
    /// Master_Down_Interval = 3 × interval + Skew_Time.
    public let masterDownInterval: Microseconds

    /// - Parameter advertisementInterval: the master's interval. v2 accepts whole seconds only.
    public init(version: VRRPVersion = .v3, priority: UInt8, advertisementInterval: Microseconds) {
        self.version = version
        self.priority = priority
        self.advertisementInterval = advertisementInterval
        let weight = Int64(256 - Int(priority))
        switch version {
        case .v2:
            skewTime = Microseconds(weight * 1_000_000 / 256)
        case .v3:
            skewTime = Microseconds(weight * advertisementInterval.value / 256)
        }
        masterDownInterval = Microseconds(3 * advertisementInterval.value) + skewTime
    }

    /// After a master dies silently, the backup takes over no sooner than this...
    public var earliestTakeoverAfterCrash: Microseconds { masterDownInterval - advertisementInterval }
    /// ...and no later than this, counted from the crash.
    public var latestTakeoverAfterCrash: Microseconds { masterDownInterval }
    /// After a priority-0 advertisement the backup takes over after Skew_Time.
    public var takeoverAfterShutdown: Microseconds { skewTime }
}

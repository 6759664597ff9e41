/// The health of one tracked script or interface, with keepalived's `rise` and `fall`.
public struct TrackedHealth: Sendable, Hashable {
    public let rise: Int
    public let fall: Int
    /// Nil until the first result: instances wait for it before they start, as keepalived does.
    public private(set) var healthy: Bool?
    private var streak = 0

    public init(rise: Int = 1, fall: Int = 1) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
    }

    /// Records one result; true when `healthy` changed.
    @discardableResult
    public mutating func record(success: Bool) -> Bool {
        guard let current = healthy else {
            healthy = success  // the first result counts at once
            streak = 0
            return true
        }
        if success == current { streak = 0; return false }
        streak += 1
        if streak >= (success ? rise : fall) {
            healthy = success
            streak = 0
            return true
        }
        return false
    }
}

/// How tracked objects combine into an instance's effective priority or a fault (keepalived's rules).
public struct TrackingPolicy: Sendable, Hashable {
    public struct Item: Sendable, Hashable {
        public var name: String
        /// 0: failure means FAULT. Positive: added while healthy. Negative: added while failed.
        public var weight: Int
        public init(name: String, weight: Int) { self.name = name; self.weight = weight }
    }

    public var basePriority: UInt8
    public var items: [Item]

    public init(basePriority: UInt8, items: [Item]) {
        self.basePriority = basePriority
        self.items = items
    }

    public enum Outcome: Sendable, Hashable {
        /// Some item has no result yet.
        case waiting
        case fault
        case priority(UInt8)
    }

    public func evaluate(_ health: (String) -> Bool?) -> Outcome {
        var priority = Int(basePriority)
        var waiting = false
        for item in items {
            guard let ok = health(item.name) else { waiting = true; continue }
            if item.weight == 0 {
                if !ok { return .fault }
            } else if item.weight > 0 && ok {
                priority += item.weight
            } else if item.weight < 0 && !ok {
                priority += item.weight
            }
        }
        if waiting { return .waiting }
        if basePriority == 255 { return .priority(255) }
        return .priority(UInt8(max(1, min(254, priority))))
    }
}

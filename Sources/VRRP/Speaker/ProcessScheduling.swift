#if canImport(Glibc)
import Glibc
#endif

/// global_defs' scheduling settings, applied to the speaker's thread as keepalived's VRRP process applies them.
enum ProcessScheduling {
    /// Linux's SCHED_RESET_ON_FORK: children (scripts) start with the normal policy and nice 0.
    static let resetOnFork: Int32 = 0x4000_0000

    /// Applies the settings and returns what it changed, one phrase each (empty when none is set).
    static func apply(_ g: KeepalivedConfig.GlobalDefinitions) throws(VRRPSystemError) -> [String] {
        var applied: [String] = []
        if let nice = g.niceValue {
            guard setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Int32(nice)) == 0 else { throw .last("setpriority(\(nice))") }
            applied.append("nice \(nice)")
        }
        // Locking first: mlockall faults in every mapped page, several ms of CPU for labctl's
        // binary, which under SCHED_RR would count against RLIMIT_RTTIME (10 ms by default) and
        // could get the speaker killed as it starts.
        if g.lockMemory {
            guard mlockall(Int32(MCL_CURRENT | MCL_FUTURE)) == 0 else { throw .last("mlockall") }
            applied.append("memory locked")
        }
        if let rt = g.realtimePriority {
            // A runaway real-time loop is killed (soft and hard limit alike) instead of locking up the CPU.
            let cpu = rlim_t(g.realtimeCPULimit.value)
            var limit = rlimit(rlim_cur: cpu, rlim_max: cpu)
            guard setrlimit(__rlimit_resource_t(__RLIMIT_RTTIME.rawValue), &limit) == 0 else { throw .last("setrlimit(RLIMIT_RTTIME)") }
            guard setRealTime(rt) else { throw .last("sched_setscheduler(SCHED_RR, \(rt))") }
            applied.append("SCHED_RR priority \(rt), RLIMIT_RTTIME \(g.realtimeCPULimit.value) µs")
        }
        return applied
    }

    /// Puts the calling thread at `priority` under SCHED_RR, or back to normal scheduling (its
    /// nice value kept) for nil. False if the kernel refused.
    static func setRealTime(_ priority: Int?) -> Bool {
        var parameters = sched_param(sched_priority: Int32(priority ?? 0))
        return sched_setscheduler(0, (priority == nil ? SCHED_OTHER : SCHED_RR) | resetOnFork, &parameters) == 0
    }
}

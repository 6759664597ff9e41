import CLinuxShims
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Why a script may not run under `enable_script_security`.
public struct ScriptSecurityError: Error, Sendable, Hashable, CustomStringConvertible {
    public var script: String
    public var reason: String
    public var description: String { "script \(script) is unsafe: \(reason)" }
}

/// Starting scripts as keepalived does: directly (no shell), as a chosen user, in their own
/// process group so that a timeout kills everything they started.
public enum ScriptRunner {
    /// keepalived's rule: the script and every directory above it must be owned by root (or
    /// the user that runs it) and writable by nobody else. A root-owned sticky directory such
    /// as /tmp is safe, as only a file's owner may replace files in it.
    public static func checkSecurity(_ path: String, runAsUID: UInt32 = 0) throws {
        guard let resolved = realpath(path, nil) else {
            throw ScriptSecurityError(script: path, reason: "\(Errno(rawValue: errno))")
        }
        let real = String(cString: resolved)
        free(resolved)
        var current = real
        var isFile = true
        while true {
            var st = stat()
            guard stat(current, &st) == 0 else { throw ScriptSecurityError(script: path, reason: "\(current): \(Errno(rawValue: errno))") }
            if st.st_uid != 0 && st.st_uid != runAsUID {
                throw ScriptSecurityError(script: path, reason: "\(current) is owned by uid \(st.st_uid)")
            }
            let sticky = !isFile && st.st_mode & S_ISVTX != 0 && st.st_uid == 0
            if st.st_mode & (S_IWGRP | S_IWOTH) != 0 && !sticky {
                throw ScriptSecurityError(script: path, reason: "\(current) is writable by \(st.st_mode & S_IWOTH != 0 ? "others" : "its group")")
            }
            if isFile && st.st_mode & S_IXUSR == 0 {
                throw ScriptSecurityError(script: path, reason: "\(current) is not executable")
            }
            if current == "/" { return }
            isFile = false
            let parent = current[..<(current.lastIndex(of: "/") ?? current.startIndex)]
            current = parent.isEmpty ? "/" : String(parent)
        }
    }

    /// The uid and gid of a user (and optionally a group) by name.
    public static func lookup(user: String, group: String?) throws -> (uid: UInt32, gid: UInt32) {
        guard let pw = getpwnam(user) else { throw ScriptSecurityError(script: "", reason: "no such user: \(user)") }
        var gid = pw.pointee.pw_gid
        if let group {
            guard let gr = getgrnam(group) else { throw ScriptSecurityError(script: "", reason: "no such group: \(group)") }
            gid = gr.pointee.gr_gid
        }
        return (pw.pointee.pw_uid, gid)
    }

    /// Starts `arguments[0]` with the rest as its arguments. A non-root user runs it through
    /// setpriv(1). Returns the child's pid.
    public static func spawn(_ arguments: [String], uid: UInt32 = 0, gid: UInt32 = 0) throws -> pid_t {
        var argv = arguments
        if uid != 0 {
            argv = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] + arguments
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGCHLD, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, Glibc.environ)
        guard status == 0 else { throw VRRPSystemError("run \(arguments[0])", Errno(rawValue: status)) }
        return pid
    }
}

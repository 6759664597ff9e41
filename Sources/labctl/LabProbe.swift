import ArgumentParser
import CLinuxShims
import VRRP
import WGNetlink
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private var probeStopRequested: sig_atomic_t = 0

extension Lab {
    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "probe",
            abstract: "Ping one IPv6 address from several network namespaces at once, until SIGTERM; then report every gap.",
            discussion: """
                One raw ICMPv6 socket per namespace, one echo request per namespace every interval.
                On SIGTERM or SIGINT it prints, with times in seconds since boot (as /proc/uptime):
                  PROBE NAMESPACE SENT ANSWERED FIRST_ANSWERED_AT
                  GAP NAMESPACE FIRST_LOST_AT LAST_LOST_AT COUNT closed|open
                  CLOCK OFFSET (with --clock-port)
                `labctl lab ha` uses it to time tunnel outages.
                A probe on another machine (the host of the lab's VM) can report in this
                machine's clock: here --send-clock sends the boot time to it every interval,
                and there --clock-port takes the smallest offset it saw and prints every time
                shifted by it.

                Example:
                  labctl lab probe --target 2001:db8:2::1 --netns c1 --netns c2 --interval 0.1
                """)

        @Option(help: "The IPv6 address to ping.")
        var target: String

        @Option(help: "A network namespace (a name in /run/netns, or a path); repeat for more.")
        var netns: [String] = []

        @Option(help: "Seconds between echo requests from each namespace.")
        var interval: Double = 0.1

        @Option(name: .customLong("send-clock"), help: "ADDRESS:PORT: send this machine's boot time there (UDP) every interval.")
        var sendClock: String?

        @Option(name: .customLong("clock-port"), help: "Take the boot time of another machine on this UDP port, ping only once it came, and report in its clock.")
        var clockPort: UInt16?

        func run() throws {
            guard let address = IPAddress(target), address.family == .v6 else { throw LabError("--target \(target): not an IPv6 address") }
            guard interval >= 0.001, interval <= 60 else { throw LabError("--interval must be from 0.001 to 60 seconds") }
            guard !netns.isEmpty || sendClock != nil else { throw LabError("give at least one --netns") }
            let clockTarget = try sendClock.map { text in
                guard let e = Endpoint(text), e.port != 0, let address = VRRPAddress(bytes: e.address.bytes) else {
                    throw LabError("--send-clock \(text): expected ADDRESS:PORT")
                }
                return (address, e.port)
            }
            var sockets: [Int32] = []
            let home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
            guard home >= 0 else { throw LabError("/proc/self/ns/net: \(String(cString: strerror(errno)))") }
            defer { close(home) }
            for name in netns {
                let path = name.hasPrefix("/") ? name : "/run/netns/\(name)"
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw LabError("\(path): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                guard labctl_setns_net(fd) == 0 else { throw LabError("setns \(path): \(String(cString: strerror(errno)))") }
                let s = socket(AF_INET6, SocketType.raw | SocketType.nonBlocking | SocketType.closeOnExec, Int32(IPPROTO_ICMPV6))
                let e = errno
                _ = labctl_setns_net(home)
                guard s >= 0 else { throw LabError("ICMPv6 socket in \(name): \(String(cString: strerror(e)))") }
                // Only echo replies (ICMP6_FILTER: a bit per type, set = blocked).
                var filter = [UInt32](repeating: 0xFFFF_FFFF, count: 8)
                filter[129 >> 5] &= ~(1 << (129 & 31))
                _ = setsockopt(s, Int32(IPPROTO_ICMPV6), 1, &filter, socklen_t(32))
                sockets.append(s)
            }
            // The clock link (unused without its options): the sender's boot time as text; the
            // receiver keeps the smallest difference to its own (the datagram least delayed).
            let clock = try SyncSocket(ipv6: clockTarget.map { $0.0.isIPv6 } ?? true, port: clockPort ?? 0, interfaceIndex: 0, joinGroup: nil)
            var clockOffset: Double?
            signal(SIGTERM) { _ in probeStopRequested = 1 }
            signal(SIGINT) { _ in probeStopRequested = 1 }

            var destination = sockaddr_in6()
            destination.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &destination.sin6_addr) { $0.copyBytes(from: address.bytes) }
            let identifier = UInt16(truncatingIfNeeded: getpid())
            var sentAt: [[Double]] = Array(repeating: [], count: sockets.count)
            var answered: [[Bool]] = Array(repeating: [], count: sockets.count)
            let step = interval
            var next = bootSeconds()
            var buffer = [UInt8](repeating: 0, count: 2048)
            while probeStopRequested == 0 {
                let now = bootSeconds()
                // A probe that reports in another machine's clock waits for it: before that, the
                // other side (the lab's VM) is not up, and the pings would only flood the segment.
                if now >= next {
                    for (k, s) in sockets.enumerated() where clockPort == nil || clockOffset != nil {
                        let sequence = UInt16(truncatingIfNeeded: sentAt[k].count)
                        var packet: [UInt8] = [128, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
                        packet += [UInt8](repeating: 0x6C, count: 24)
                        _ = withUnsafePointer(to: &destination) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(s, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                        }
                        sentAt[k].append(now)
                        answered[k].append(false)
                    }
                    if let (address, port) = clockTarget { try? clock.send(Array("\(now)".utf8), to: address, port: port) }
                    next += step
                    if next < now { next = now + step }
                }
                var fds = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                if clockPort != nil { fds.append(pollfd(fd: clock.descriptor, events: Int16(POLLIN), revents: 0)) }
                let wait = max(0, Int32(((next - bootSeconds()) * 1000).rounded(.up)))
                let ready = poll(&fds, nfds_t(fds.count), wait)
                guard ready > 0 else { continue }
                if clockPort != nil, fds.removeLast().revents != 0 {
                    while let (bytes, _) = clock.receive(into: &buffer) {
                        if let remote = Double(String(decoding: bytes, as: UTF8.self)) { clockOffset = min(clockOffset ?? .infinity, bootSeconds() - remote) }
                    }
                }
                for (k, fd) in fds.enumerated() where fd.revents != 0 {
                    while true {
                        let n = recv(fd.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                        guard n >= 8 else { break }
                        guard buffer[0] == 129, UInt16(buffer[4]) << 8 | UInt16(buffer[5]) == identifier else { continue }
                        // The sequence wraps at 65536; match it to the newest request with those bits.
                        let low = Int(UInt16(buffer[6]) << 8 | UInt16(buffer[7]))
                        let count = sentAt[k].count
                        var index = (count - 1) - ((count - 1 - low) & 0xFFFF)
                        if index < 0 { index = low }
                        if index < count { answered[k][index] = true }
                    }
                }
            }
            // Requests sent in the last second may still be on their way: they are left out.
            let end = bootSeconds() - 1
            var shift = 0.0
            if let port = clockPort {
                guard let offset = clockOffset else { throw LabError("--clock-port \(port): no boot time arrived, so no time can be reported") }
                shift = offset
                print("CLOCK \(secondsText(offset)) (this machine's boot time minus the other's)")
            }
            let time = { (t: Double) in secondsText(t - shift) }
            for (k, name) in netns.enumerated() {
                let count = sentAt[k].firstIndex(where: { $0 > end }) ?? sentAt[k].count
                let first = (0..<count).first(where: { answered[k][$0] })
                print("PROBE \(name) \(count) \((0..<count).filter { answered[k][$0] }.count) \(first.map { time(sentAt[k][$0]) } ?? "-")")
                var i = 0
                while i < count {
                    guard !answered[k][i] else { i += 1; continue }
                    var j = i
                    while j + 1 < count && !answered[k][j + 1] { j += 1 }
                    print("GAP \(name) \(time(sentAt[k][i])) \(time(sentAt[k][j])) \(j - i + 1) \(j + 1 == count ? "open" : "closed")")
                    i = j + 1
                }
            }
        }
    }
}

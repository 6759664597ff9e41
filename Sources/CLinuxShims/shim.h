// System calls glibc has no wrapper for. Header-only: nothing to link.
#pragma once

#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

// No _GNU_SOURCE here: it changes glibc's struct definitions (fd_set) against the Glibc module
// Swift already built. What it would expose is spelled out instead.
#ifndef O_PATH
#define O_PATH 010000000
#endif

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/// openat2(2) with RESOLVE_IN_ROOT: `path` and every symlink in it resolve inside `rootfd`.
/// Returns the descriptor, or -1 with errno set.
static inline int labctl_open_in_root(int rootfd, const char *path, int flags) {
    struct open_how how = {0};
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

// --- For the VRRP speaker: signalfd, packet sockets, ancillary data, rtnetlink.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <net/ethernet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>

/// The IPv6 destination and interface of a received packet (IPV6_PKTINFO), without _GNU_SOURCE.
struct labctl_in6_pktinfo {
    struct in6_addr addr;
    unsigned int ifindex;
};

/// The first ancillary data item of type `level`/`type` in `msg`, copied into `out` (at most
/// `size` bytes). Returns the number of bytes copied, or -1 when there is none. CMSG_* are macros,
/// which Swift cannot call.
static inline int labctl_cmsg_find(struct msghdr *msg, int level, int type, void *out, size_t size) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level == level && c->cmsg_type == type) {
            size_t n = c->cmsg_len - CMSG_LEN(0);
            if (n > size) n = size;
            memcpy(out, CMSG_DATA(c), n);
            return (int)n;
        }
    }
    return -1;
}

/// ppoll(2) with a relative timeout in microseconds (negative: wait forever), so that timers
/// fire with microsecond rather than millisecond resolution.
#include <poll.h>
#include <time.h>
static inline int labctl_poll_us(struct pollfd *fds, unsigned long n, long long timeout_us) {
    struct timespec ts, *tsp = NULL;
    if (timeout_us >= 0) {
        ts.tv_sec = (time_t)(timeout_us / 1000000);
        ts.tv_nsec = (long)(timeout_us % 1000000) * 1000;
        tsp = &ts;
    }
    return (int)syscall(SYS_ppoll, fds, n, tsp, NULL, (size_t)8);
}

/* setns(2) without _GNU_SOURCE: join the network namespace open at fd (CLONE_NEWNET). */
static inline int labctl_setns_net(int fd) {
    return (int)syscall(SYS_setns, fd, 0x40000000);
}

// --- For tests: a network namespace of the calling thread's own.
#ifndef SYS_unshare
#define SYS_unshare 272
#endif

/// unshare(CLONE_NEWNET) for the calling thread. Returns 0, or -1 with errno set.
static inline int labctl_unshare_network(void) {
    return (int)syscall(SYS_unshare, 0x40000000 /* CLONE_NEWNET */);
}

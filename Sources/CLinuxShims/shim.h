// System calls glibc has no wrapper for. Header-only: nothing to link.
#pragma once
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

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

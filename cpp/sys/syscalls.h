// Raw system calls that glibc 2.36 (Debian 12) does not wrap, or wraps in ways we cannot
// use between a vfork-style clone and exec. Header-only, no allocation, async-signal-safe.
#pragma once
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace tsrun::sys {

inline long clone3(struct clone_args* args) {
  return ::syscall(SYS_clone3, args, sizeof(*args));
}

// fork-like clone3 (no CLONE_VM): the child returns 0 on a copy of the caller's stack.
inline pid_t clone3_fork(uint64_t flags, int cgroup_fd = -1) {
  struct clone_args args;
  std::memset(&args, 0, sizeof(args));
  args.flags = flags;
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  return static_cast<pid_t>(clone3(&args));
}

inline int pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

inline int openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how;
  std::memset(&how, 0, sizeof(how));
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

inline int pidfd_open(pid_t pid, unsigned flags) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}

inline int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

inline int faccessat2(int dirfd, const char* path, int mode, int flags) {
  return static_cast<int>(::syscall(SYS_faccessat2, dirfd, path, mode, flags));
}

inline int close_range(unsigned first, unsigned last, unsigned flags) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

inline int execveat(int dirfd, const char* path, char* const argv[], char* const envp[],
                    int flags) {
  return static_cast<int>(::syscall(SYS_execveat, dirfd, path, argv, envp, flags));
}

// struct mount_attr; defined here because glibc's <sys/mount.h> and <linux/mount.h> clash.
struct MountAttr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

inline int mount_setattr(int dfd, const char* path, unsigned flags, MountAttr* attr) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr)));
}

inline int open_tree(int dfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dfd, path, flags));
}

inline int move_mount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags));
}

inline long keyctl(int op, unsigned long a2, unsigned long a3, unsigned long a4) {
  return ::syscall(SYS_keyctl, op, a2, a3, a4, 0);
}

}  // namespace tsrun::sys

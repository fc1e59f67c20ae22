// Starting an executable held as an fd without forking the caller: the addon starts
// tsrun-init from Node this way, and a shim keeper starts it for its group the same way.
//
// A fork would copy the caller's page tables (all of a Node heap), and in a multi-threaded
// caller it may inherit locks other threads held. Instead: clone(CLONE_VM | CLONE_VFORK)
// (posix_spawn's trick: the child borrows our memory while this thread waits), move the fds
// into place, and execveat the executable (a sealed memfd copy of tsrun-init). Between the
// clone and the exec the child runs only dup/fcntl/execveat on memory prepared before the
// clone, and all signals stay blocked: the mask survives the exec and tsrun-init resets
// dispositions and mask itself, so no handler of the caller's can ever run in the child.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "syscalls.h"

namespace tsrun::sys {

struct Spawned {
  pid_t pid = -1;
  int pidfd = -1;
};

namespace spawn_detail {

// Everything the child touches, prepared before the clone.
struct ChildArgs {
  int exe_fd;
  char* const* argv;
  char* const* envp;
  const int* fds;  // fds[i] becomes fd i; -1 becomes /dev/null
  int nfds;
  int dev_null;
  int* scratch;  // nfds + 1 slots
  int err;       // written by the child: errno of the failed call
};

inline int child_main(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  // First lift every source (and the executable) above the target range, so that placing
  // fd i can never overwrite a source still needed for a later slot.
  for (int i = 0; i < a->nfds; i++) {
    int src = a->fds[i] >= 0 ? a->fds[i] : a->dev_null;
    a->scratch[i] = ::fcntl(src, F_DUPFD_CLOEXEC, a->nfds);
    if (a->scratch[i] < 0) goto fail;
  }
  a->scratch[a->nfds] = ::fcntl(a->exe_fd, F_DUPFD_CLOEXEC, a->nfds);
  if (a->scratch[a->nfds] < 0) goto fail;
  for (int i = 0; i < a->nfds; i++) {
    if (::dup2(a->scratch[i], i) < 0) goto fail;  // dup2 clears close-on-exec on i
  }
  execveat(a->scratch[a->nfds], "", const_cast<char**>(a->argv), const_cast<char**>(a->envp), AT_EMPTY_PATH);
fail:
  a->err = errno;
  ::_exit(127);
}

#if defined(__x86_64__)
#define TSRUN_CLONE3_VM 1
// clone3 with CLONE_VM and a stack of our own: the child runs fn(arg) on that stack and exits
// with what it returns. glibc 2.36 wraps only clone() this way, which cannot take
// CLONE_INTO_CGROUP; this is the same few instructions for clone3. After the syscall the
// child has the parent's registers but rax (0) and rsp (the new stack's top, 16-byte
// aligned, so the call leaves fn the alignment the ABI promises).
inline long clone3_vm(struct clone_args* ca, int (*fn)(void*), void* arg) {
  long ret;
  __asm__ volatile(
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "movq %[arg], %%rdi\n\t"
      "callq *%[fn]\n\t"
      "movl %%eax, %%edi\n\t"
      "movl %[exit], %%eax\n\t"
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "=a"(ret)
      : "a"(static_cast<long>(SYS_clone3)), "D"(ca), "S"(sizeof(*ca)), [fn] "r"(fn), [arg] "r"(arg), [exit] "i"(SYS_exit)
      : "rcx", "r11", "memory", "cc");
  return ret;
}
#endif

}  // namespace spawn_detail

/**
 * Runs the executable behind exe_fd with argv and envp, fds[i] as its fd i (-1 is
 * /dev/null) and nothing else open; it is our child, with SIGCHLD as its exit signal.
 * 0 with *out filled, or an errno with *failed naming the call that failed (a child that
 * could not exec is reaped here: it is nobody else's to wait for).
 */
inline int spawn_executable(int exe_fd, char* const* argv, char* const* envp, const std::vector<int>& fds, Spawned* out,
                            const char** failed, int cgroup_fd = -1) {
  std::vector<int> scratch(fds.size() + 1, -1);
  int dev_null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (dev_null < 0) {
    *failed = "open /dev/null";
    return errno;
  }
  const size_t stack_size = 64 * 1024;
  void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    int e = errno;
    ::close(dev_null);
    *failed = "mmap";
    return e;
  }
  spawn_detail::ChildArgs args{exe_fd, argv, envp, fds.data(), static_cast<int>(fds.size()), dev_null, scratch.data(), 0};
  int pidfd = -1;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid;
#ifdef TSRUN_CLONE3_VM
  if (cgroup_fd >= 0) {
    struct clone_args ca;
    std::memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_INTO_CGROUP;
    ca.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
    ca.exit_signal = SIGCHLD;
    ca.stack = reinterpret_cast<uintptr_t>(stack);
    ca.stack_size = stack_size;
    ca.cgroup = static_cast<uint64_t>(cgroup_fd);
    long r = spawn_detail::clone3_vm(&ca, spawn_detail::child_main, &args);
    if (r < 0) errno = static_cast<int>(-r);
    pid = r < 0 ? -1 : static_cast<pid_t>(r);
  } else
#endif
  {
    pid = ::clone(spawn_detail::child_main, static_cast<char*>(stack) + stack_size, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                  &args, &pidfd);
  }
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, stack_size);
  ::close(dev_null);
  if (pid < 0) {
    *failed = "clone";
    return clone_err;
  }
  if (args.err != 0) {
    siginfo_t si;
    ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED);
    ::close(pidfd);
    *failed = "execveat";
    return args.err;
  }
  out->pid = pid;
  out->pidfd = pidfd;
  return 0;
}

/** Whether spawn_executable can start the child in a cgroup (cgroup_fd) on this machine. */
constexpr bool kSpawnIntoCgroup =
#ifdef TSRUN_CLONE3_VM
    true;
#else
    false;
#endif

/**
 * spawn_executable, with the child started in the cgroup v2 directory cgroup_fd names
 * (clone3's CLONE_INTO_CGROUP), so that nobody moves it there by pid afterwards: such a move
 * takes the kernel's global cgroup lock and waits for an RCU grace period (6-15 ms here);
 * a clone into the cgroup does not.
 *
 * clone3 with CLONE_VM would need a stack switch glibc does not offer, so this is a fork
 * (no CLONE_VM): only for small single-threaded callers (a shim keeper), never Node. The
 * caller does not wait for the exec either, so a child that could not exec shows only as
 * an exit with 127.
 */
inline int spawn_executable_in_cgroup(int cgroup_fd, int exe_fd, char* const* argv, char* const* envp,
                                      const std::vector<int>& fds, Spawned* out, const char** failed) {
  std::vector<int> scratch(fds.size() + 1, -1);
  int dev_null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (dev_null < 0) {
    *failed = "open /dev/null";
    return errno;
  }
  spawn_detail::ChildArgs args{exe_fd, argv, envp, fds.data(), static_cast<int>(fds.size()), dev_null, scratch.data(), 0};
  int pidfd = -1;
  struct clone_args ca;
  std::memset(&ca, 0, sizeof(ca));
  ca.flags = CLONE_PIDFD | CLONE_INTO_CGROUP;
  ca.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  ca.exit_signal = SIGCHLD;
  ca.cgroup = static_cast<uint64_t>(cgroup_fd);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = static_cast<pid_t>(clone3(&ca));
  if (pid == 0) spawn_detail::child_main(&args);  // does not return
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(dev_null);
  if (pid < 0) {
    *failed = "clone3 into the cgroup";
    return clone_err;
  }
  out->pid = pid;
  out->pidfd = pidfd;
  return 0;
}

}  // namespace tsrun::sys

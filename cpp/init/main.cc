// tsrun-init: the only code that runs between the runtime and the container's program.
// The addon starts it from a sealed memfd copy (so /proc/<pid>/exe never reaches a host
// binary) with the sync socket; cpp/plan/sync.h draws the protocol.
//
//   tsrun-init init <nfds> <sync-fd>   as the runtime starts it: fds 0..nfds-1 are ours
//   tsrun-init --plan-file <file>      by hand, for strace and gdb: records are printed
//                                      to stderr and there is no exec fifo to wait on
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../plan/plan.h"
#include "../sys/syscalls.h"
#include "channel.h"
#include "bind-sources.h"
#include "extras.h"
#include "idmap.h"
#include "paths.h"
#include "process.h"
#include "rootfs.h"
#include "seccomp.h"

namespace tsrun::init {
namespace {

using plan::NsType;

int clone_flag(NsType t) {
  switch (t) {
    case NsType::Mount: return CLONE_NEWNS;
    case NsType::Uts: return CLONE_NEWUTS;
    case NsType::Ipc: return CLONE_NEWIPC;
    case NsType::Net: return CLONE_NEWNET;
    case NsType::Pid: return CLONE_NEWPID;
    case NsType::User: return CLONE_NEWUSER;
    case NsType::Cgroup: return CLONE_NEWCGROUP;
    case NsType::Time: return CLONE_NEWTIME;
  }
  return 0;
}

bool has_ns(const plan::Plan& p, NsType t) {
  for (const auto& ns : p.namespaces) {
    if (ns.type == t) return true;
  }
  return false;
}

// Joins the namespaces given by path, in plan order (TypeScript puts the user namespace
// first), then creates the new ones. All paths are opened before the first setns: after
// joining a mount namespace they may no longer resolve.
void enter_namespaces(const plan::Plan& p) {
  std::vector<std::pair<Fd, int>> joins;
  int new_flags = 0;
  for (size_t i = 0; i < p.namespaces.size(); i++) {
    const auto& ns = p.namespaces[i];
    if (ns.path.empty()) {
      new_flags |= clone_flag(ns.type);
      continue;
    }
    Fd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.ok()) fail(Step::SETNS, errno, static_cast<int>(i), "open %s", ns.path.c_str());
    joins.emplace_back(std::move(fd), static_cast<int>(i));
  }
  for (auto& [fd, i] : joins) {
    const auto& ns = p.namespaces[i];
    if (::setns(fd.get(), clone_flag(ns.type)) < 0) {
      fail(Step::SETNS, errno, i, "%s", ns.path.c_str());
    }
  }
  // A new user namespace first, mapped before anything else is made, so that it owns the
  // namespaces created next. Only a process outside it may write its maps: the parent.
  if (new_flags & CLONE_NEWUSER) {
    if (::unshare(CLONE_NEWUSER) < 0) fail(Step::UNSHARE, errno, -1, "user namespace");
    if (p.userns_maps) request_userns_maps();
    new_flags &= ~CLONE_NEWUSER;
  }
  if (new_flags && ::unshare(new_flags) < 0) fail(Step::UNSHARE, errno, -1, "flags 0x%x", new_flags);
  if (new_flags & CLONE_NEWTIME) write_time_offsets(p);
}

// Joins every namespace of a running container at once through its init's pidfd: the
// kernel orders them (user first) and the set is atomic, so no half-joined state exists.
void join_container(const plan::Plan& p) {
  // From here on the container's processes could look at us through /proc: a non-dumpable
  // process keeps its fds, memory and /proc/<pid>/exe out of their reach. execve resets it.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail(Step::SETNS, errno, -1, "set non-dumpable");
  int flags = 0;
  for (const auto& ns : p.namespaces) flags |= clone_flag(ns.type);
  if (flags && ::setns(p.join_fd, flags) < 0) fail(Step::SETNS, errno, -1, "join the container's namespaces (0x%x)", flags);
}

// Shared by the container's init and by exec'd processes, once they are in the container.
// `state` is the container state for startContainer hooks (empty when there are none).
[[noreturn]] void finish_and_exec(const plan::Plan& p, const std::string& state) {
  debug(Step::OOM_SCORE_ADJ, "process settings: oom_score_adj, scheduler, io priority");
  apply_process_settings(p);  // may need CAP_SYS_NICE, CAP_SYS_RESOURCE: before they go
  if (p.process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    fail(Step::NO_NEW_PRIVS, errno, -1, "prctl");
  }
  debug(Step::RLIMIT, "%zu rlimits", p.process.rlimits.size());
  set_rlimits(p.process);
  apply_personality(p);
  // Seccomp goes in as late as it can, so that the profile need not allow our own set-up;
  // without no_new_privs, loading a filter needs CAP_SYS_ADMIN, so it must precede the
  // capability drop (runc's order in standard_init_linux.go). Either way the filter sees
  // what follows it: the sync socket, the exec fifo, startContainer hooks and execve.
  if (!p.process.no_new_privileges && p.has_seccomp) debug(Step::SECCOMP, "load the seccomp filter (before the capabilities go)");
  if (!p.process.no_new_privileges) apply_seccomp(p);
  std::vector<std::string> env = p.process.env;
  debug(Step::USER, "identity: uid %u, gid %u, cwd %s, capabilities", p.process.uid, p.process.gid, p.process.cwd.c_str());
  finalize_identity(p, &env);
  set_cpu_affinity(p.cpus_final);
  debug(Step::LOOKUP, "look up %s", p.process.args.at(0).c_str());
  std::string path = lookup_executable(p.process, env);
  apply_exec_labels(p);
  if (p.process.no_new_privileges && p.has_seccomp) debug(Step::SECCOMP, "load the seccomp filter (no_new_privs)");
  if (p.process.no_new_privileges) apply_seccomp(p);

  debug(Step::SYNC, p.fifo_fd >= 0 ? "ready: %s, waiting on the exec fifo" : "ready: exec %s", path.c_str());
  send_ready();
  ::close(sync_fd());
  set_sync_fd(-1);
  int fifo = p.fifo_fd >= 0 ? wait_for_start(p) : -1;
  run_start_hooks(p.start_container_hooks, state, fifo);
  exec_process(path, p.process, env);
}

void wait_for_bootstrap(int go_fd) {
  // Until the bootstrap has reported our pid, so that our records come after it.
  char c;
  while (::read(go_fd, &c, 1) < 0 && errno == EINTR) {
  }
  ::close(go_fd);
}

void new_session(const plan::Plan& p) {
  if (::setsid() < 0) fail(Step::SETSID, errno, -1, "setsid");
  // In a user namespace we are not its root until we say so (a no-op for host root).
  if (::setresgid(0, 0, 0) < 0) fail(Step::USER, errno, -1, "become gid 0 of the user namespace");
  if (::setresuid(0, 0, 0) < 0) fail(Step::USER, errno, -1, "become uid 0 of the user namespace");
  // Supplementary groups of whoever ran the runtime are not the container's, except an
  // unprivileged caller's (runc keeps them: dropping one could open what it is denied). A
  // user namespace joined by path may deny setgroups(2); then there is nothing we may change.
  if (!p.process.keep_groups && ::setgroups(0, nullptr) < 0 && !(errno == EPERM && setgroups_denied())) {
    fail(Step::USER, errno, -1, "clear supplementary groups");
  }
}

[[noreturn]] void container_init(const plan::Plan& p, const std::vector<int>& idmapped_trees, const std::vector<int>& bind_sources,
                                 int go_fd) {
  wait_for_bootstrap(go_fd);
  debug(Step::SETSID, "container init: new session");
  new_session(p);
  bool new_mount_ns = has_ns(p, NsType::Mount);
  if (p.new_keyring) debug(Step::KEYRING, "join a new session keyring");
  if (p.new_keyring) join_session_keyring(p, has_ns(p, NsType::User));

  debug(Step::ROOTFS_BIND, "prepare the rootfs %s", p.rootfs.c_str());
  prepare_root(p, new_mount_ns);
  debug(Step::MOUNT, "%zu rootfs operations (mounts, devices, symlinks)", p.rootfs_ops.size());
  run_rootfs_ops(p, idmapped_trees, bind_sources);
  // Hooks see the mounts but still the host's root, as the spec orders them.
  std::string state;
  if (p.hooks_sync) {
    debug(Step::HOOKS, "ask the runtime for its create hooks, then run %zu createContainer hooks", p.create_container_hooks.size());
    state = request_hooks();
    // runc runs createContainer hooks from the rootfs: `touch ./etc/x` writes into it
    if (!p.create_container_hooks.empty() && ::chdir(p.rootfs.c_str()) < 0) fail(Step::HOOKS, errno, -1, "chdir %s", p.rootfs.c_str());
    run_hooks(p.create_container_hooks, state);
  }
  debug(p.no_pivot ? Step::CHROOT : Step::PIVOT_ROOT, p.no_pivot ? "enter the rootfs (chroot)" : "enter the rootfs (pivot_root)");
  enter_root(p, new_mount_ns);
  if (p.process.terminal) setup_console(p, true);
  if (new_mount_ns) debug(Step::READONLY_PATH, "finish the rootfs: read-only, %zu read-only and %zu masked paths", p.readonly_paths.size(), p.masked_paths.size());
  if (new_mount_ns) finalize_rootfs(p);
  ::umask(p.process.umask >= 0 ? static_cast<mode_t>(p.process.umask) : 022);
  set_names(p);
  apply_sysctl(p);
  apply_path_rules(p);
  finish_and_exec(p, state);
}

// A process exec'd into a running container: it is in the container's namespaces and
// cgroups already; what remains is its own console, session keyring and identity.
[[noreturn]] void exec_init(const plan::Plan& p, int go_fd) {
  wait_for_bootstrap(go_fd);
  debug(Step::SETSID, "exec'd process: new session");
  new_session(p);
  if (p.new_keyring) join_session_keyring(p, has_ns(p, NsType::User));
  if (p.process.terminal) setup_console(p, false);
  // runc leaves an exec'd process the caller's umask unless the process asks for one.
  if (p.process.umask >= 0) ::umask(static_cast<mode_t>(p.process.umask));
  finish_and_exec(p, "");
}

[[noreturn]] void bootstrap(const std::vector<uint8_t>& bytes) {
  plan::Plan p;
  std::string why;
  if (!plan::decode(bytes.data(), bytes.size(), &p, &why)) fail(Step::PLAN, EINVAL, -1, "%s", why.c_str());
  if (p.process.args.empty()) fail(Step::PLAN, EINVAL, -1, "no process args");
  set_debug(p.debug);
  debug(Step::PLAN, "bootstrap: plan of %zu bytes for %s", bytes.size(), p.mode == plan::Mode::Exec ? "exec" : "create");

  // First of all: in its cgroups before it forks anything or makes a cgroup namespace.
  join_cgroups(p);
  set_cpu_affinity(p.cpus_initial);
  std::vector<int> idmapped_trees, bind_sources;
  if (p.mode == plan::Mode::Exec) {
    debug(Step::SETNS, "join the container's namespaces");
    join_container(p);
  } else {
    debug(Step::UNSHARE, "%zu namespaces: join those given by path, make the rest", p.namespaces.size());
    // Before our own user namespace: id-mapping host mounts needs the host's.
    idmapped_trees = prepare_idmapped_mounts(p);
    BindSources sources = BindSources::start(p, idmapped_trees);
    enter_namespaces(p);
    bind_sources = sources.collect(p);
  }

  int go[2];
  if (::pipe2(go, O_CLOEXEC) < 0) fail(Step::CLONE, errno, -1, "pipe");
  // CLONE_PARENT makes the container's init a child of the runtime, not of this process,
  // which exits next: the runtime (or the shim, as subreaper) can wait for it directly.
  debug(Step::CLONE, "clone the %s", p.mode == plan::Mode::Exec ? "process" : "container's init");
  pid_t pid = sys::clone3_fork(CLONE_PARENT);
  if (pid < 0) fail(Step::CLONE, errno, -1, "clone");
  if (pid == 0) {
    ::close(go[1]);
    if (p.mode == plan::Mode::Exec) exec_init(p, go[0]);
    container_init(p, idmapped_trees, bind_sources, go[0]);
  }
  send_child_pid(pid);
  ::close(go[1]);
  ::_exit(0);
}

// The spawner exec'd us with every signal blocked (so no Node handler could run in between)
// and with Node's ignored signals still ignored; the container starts from defaults.
void reset_signals() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

std::vector<uint8_t> read_file(const char* path) {
  std::string text;
  if (!read_text(path, &text)) {
    std::fprintf(stderr, "tsrun-init: cannot read %s: %s\n", path, std::strerror(errno));
    std::exit(2);
  }
  return std::vector<uint8_t>(text.begin(), text.end());
}

}  // namespace
}  // namespace tsrun::init

int main(int argc, char** argv) {
  using namespace tsrun::init;
  reset_signals();
  if (argc == 4 && std::strcmp(argv[1], "init") == 0) {
    int nfds = std::atoi(argv[2]);
    int sync = std::atoi(argv[3]);
    if (nfds < 4 || sync < 3 || sync >= nfds) {
      std::fprintf(stderr, "tsrun-init: bad fd arguments\n");
      return 2;
    }
    // Nothing the runtime did not hand over on purpose survives into the container.
    tsrun::sys::close_range(static_cast<unsigned>(nfds), ~0U, 0);
    set_sync_fd(sync);
    bootstrap(read_plan());
  }
  if (argc == 3 && std::strcmp(argv[1], "--plan-file") == 0) {
    set_text_mode();
    bootstrap(read_file(argv[2]));
  }
  std::fprintf(stderr, "usage: tsrun-init init <nfds> <sync-fd> | --plan-file <file>\n");
  return 2;
}

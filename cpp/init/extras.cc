// The smaller per-container and per-process settings of the OCI config, each a system call
// or a /proc write at its point in set-up (see main.cc for the order).
#include "extras.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "../sys/c_strings.h"
#include "../sys/syscalls.h"
#include "channel.h"
#include "fds.h"
#include "paths.h"

namespace tsrun::init {
namespace {

bool write_file(const std::string& path, const std::string& value) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.ok()) return false;
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(value.size());
}

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Go's name for a signal as runc's hook errors show it ("signal: bad system call"): glibc's
// description, lower-cased where it starts with a capitalised word ("CPU time..." stays).
std::string signal_text(int sig) {
  std::string text = ::strsignal(sig);
  if (text.size() > 1 && std::isupper(static_cast<unsigned char>(text[0])) && std::islower(static_cast<unsigned char>(text[1]))) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

// runc's words for a failed hook ("error running hook #0: ..."), naming it as the config
// does: the sync record's detail, and what `start` shows for a startContainer hook.
void run_hook(const plan::Hook& h, const std::string& state, Step step, const char* kind, int index) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0) fail(step, errno, index, "pipe for hook %s", h.path.c_str());
  auto argv = sys::c_strings(h.args);
  auto envp = sys::c_strings(h.env);
  pid_t pid = ::fork();
  if (pid < 0) fail(step, errno, index, "fork for hook %s", h.path.c_str());
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    close_fds_from(3, false);
    ::execve(h.path.c_str(), argv.data(), envp.data());
    std::fprintf(stderr, "exec %s: %s", h.path.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  // A hook that does not read its stdin must not kill us with SIGPIPE.
  struct sigaction ign, old;
  std::memset(&ign, 0, sizeof(ign));
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  size_t off = 0;
  while (off < state.size()) {
    ssize_t n = ::write(in[1], state.data() + off, state.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(in[1]);
  ::sigaction(SIGPIPE, &old, nullptr);

  std::string output;
  int64_t deadline = h.timeout > 0 ? now_ms() + int64_t{h.timeout} * 1000 : -1;
  bool timed_out = false;
  for (;;) {
    struct pollfd pfd = {out[0], POLLIN, 0};
    int wait = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int r = ::poll(&pfd, 1, wait);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    char buf[512];
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < 300) output.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  for (char& c : output) {
    if (c == '\n') c = ';';
  }
  std::string what;
  int err = 0;
  if (timed_out) {
    what = "hook ran past specified timeout of " + std::to_string(h.timeout) + ".0s";
    err = ETIMEDOUT;
  } else if (WIFSIGNALED(status)) {
    what = "signal: " + signal_text(WTERMSIG(status));
    err = EINTR;
  } else if (WEXITSTATUS(status) != 0) {
    what = "exit status " + std::to_string(WEXITSTATUS(status));
    err = ECANCELED;
  } else {
    return;
  }
  fail(step, err, index, "error running hook #%d: hooks.%s[%d] \"%s\": %s%s%s", index, kind, index, h.path.c_str(), what.c_str(),
       output.empty() ? "" : ", output: ", output.c_str());
}

}  // namespace

void run_hooks(const std::vector<plan::Hook>& hooks, const std::string& state) {
  for (size_t i = 0; i < hooks.size(); i++) run_hook(hooks[i], state, Step::HOOKS, "createContainer", static_cast<int>(i));
}

void run_start_hooks(const std::vector<plan::Hook>& hooks, const std::string& state, int report_fd) {
  for (size_t i = 0; i < hooks.size(); i++) {
    // In a child, so that fail() (which writes to the sync socket, closed by now) can be
    // turned into a message on a pipe.
    int msg[2];
    if (::pipe2(msg, O_CLOEXEC) < 0) ::_exit(1);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(msg[0]);
      set_sync_fd(msg[1]);
      run_hook(hooks[i], state, Step::HOOKS, "startContainer", static_cast<int>(i));
      ::_exit(0);
    }
    ::close(msg[1]);
    sync::Record rec{};
    bool failed = ::read(msg[0], &rec, sizeof(rec)) == static_cast<ssize_t>(sizeof(rec));
    ::close(msg[0]);
    int status = 0;
    while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!failed && pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    rec.detail[sizeof(rec.detail) - 1] = '\0';
    char line[640];
    int n = failed ? std::snprintf(line, sizeof(line), "\n%s", rec.detail)
                   : std::snprintf(line, sizeof(line), "\nerror running hook #%zu: hooks.startContainer[%zu]: did not finish", i, i);
    if (report_fd >= 0) (void)!::write(report_fd, line, static_cast<size_t>(std::max(0, n)));
    std::fprintf(stderr, "tsrun-init: %s\n", line + 1);
    ::_exit(1);
  }
}

void write_time_offsets(const plan::Plan& p) {
  if (!p.has_time_offsets) return;
  const plan::TimeOffsets& t = p.time_offsets;
  char buf[128];
  std::snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n", static_cast<long long>(t.monotonic_secs),
                t.monotonic_nsecs, static_cast<long long>(t.boottime_secs), t.boottime_nsecs);
  if (!write_file("/proc/self/timens_offsets", buf)) fail(Step::TIME_OFFSETS, errno, -1, "%s", buf);
}

void join_cgroups(const plan::Plan& p) {
  if (!p.cgroup_tasks.empty()) debug(Step::CGROUP, "join %zu cgroups, each by its tasks file", p.cgroup_tasks.size());
  for (size_t i = 0; i < p.cgroup_tasks.size(); i++) {
    const char* file = p.cgroup_tasks[i].c_str();
    int fd = ::open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail(Step::CGROUP, errno, static_cast<int>(i), "join %s", file);
    ssize_t n = ::write(fd, "0", 1);
    int err = errno;
    ::close(fd);
    if (n != 1) fail(Step::CGROUP, n < 0 ? err : EIO, static_cast<int>(i), "join %s", file);
  }
}

void set_cpu_affinity(const std::vector<uint32_t>& cpus) {
  if (cpus.empty()) return;
  size_t ncpu = 0;
  for (uint32_t c : cpus) ncpu = std::max<size_t>(ncpu, c + 1);
  cpu_set_t* set = CPU_ALLOC(ncpu);
  size_t size = CPU_ALLOC_SIZE(ncpu);
  CPU_ZERO_S(size, set);
  for (uint32_t c : cpus) CPU_SET_S(c, size, set);
  int rc = ::sched_setaffinity(0, size, set);
  int err = errno;
  CPU_FREE(set);
  if (rc < 0) fail(Step::CPU_AFFINITY, err, -1, "%zu cpus", cpus.size());
}

void apply_sysctl(const plan::Plan& p) {
  for (size_t i = 0; i < p.sysctl.size(); i++) {
    const auto& sc = p.sysctl[i];
    if (!write_file("/proc/sys/" + sc.key, sc.value)) {
      fail(Step::SYSCTL, errno, static_cast<int>(i), "/proc/sys/%s = %s", sc.key.c_str(), sc.value.c_str());
    }
  }
}

void apply_process_settings(const plan::Plan& p) {
  if (p.has_oom_score_adj && !write_file("/proc/self/oom_score_adj", std::to_string(p.oom_score_adj))) {
    fail(Step::OOM_SCORE_ADJ, errno, -1, "%d", p.oom_score_adj);
  }
  if (p.has_scheduler) {
    // struct sched_attr as the kernel defines it (glibc 2.36 has no wrapper).
    struct {
      uint32_t size, policy;
      uint64_t flags;
      int32_t nice;
      uint32_t priority;
      uint64_t runtime, deadline, period;
    } attr = {48, p.scheduler.policy, p.scheduler.flags, p.scheduler.nice, p.scheduler.priority,
              p.scheduler.runtime, p.scheduler.deadline, p.scheduler.period};
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) < 0) fail(Step::SCHEDULER, errno, -1, "policy %u", p.scheduler.policy);
  }
  if (p.io_priority >= 0 && ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, p.io_priority) < 0) {
    fail(Step::IO_PRIORITY, errno, -1, "0x%x", p.io_priority);
  }
}

void apply_personality(const plan::Plan& p) {
  if (p.has_personality && ::personality(p.personality) < 0) fail(Step::PERSONALITY, errno, -1, "0x%x", p.personality);
}

void apply_exec_labels(const plan::Plan& p) {
  if (!p.apparmor_profile.empty() && !write_file("/proc/self/attr/apparmor/exec", "exec " + p.apparmor_profile) &&
      !write_file("/proc/self/attr/exec", "exec " + p.apparmor_profile)) {
    fail(Step::SECURITY_LABEL, errno, -1, "apparmor profile %s", p.apparmor_profile.c_str());
  }
  if (!p.selinux_label.empty() && !write_file("/proc/self/attr/exec", p.selinux_label)) {
    fail(Step::SECURITY_LABEL, errno, -1, "selinux label %s", p.selinux_label.c_str());
  }
}

}  // namespace tsrun::init

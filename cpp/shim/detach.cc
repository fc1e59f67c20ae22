#include "detach.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "common.h"

namespace tsrun::shim {

std::string server_oom_score() {
  std::string text;
  if (!read_file("/proc/" + std::to_string(::getppid()) + "/oom_score_adj", &text)) return "";
  int score = std::atoi(text.c_str()) + 1;
  if (score > 1000) score = 1000;
  return std::to_string(score);
}

pid_t spawn_detached(const Detached& d) {
  std::vector<std::string> args = d.argv;
  std::vector<char*> argv = c_strings(args);
  std::vector<std::string> env = server_environment();
  std::vector<char*> envp = c_strings(env);

  pid_t pid = ::fork();
  if (pid != 0) return pid;

  ::setsid();
  ::signal(SIGPIPE, SIG_DFL);
  // A keeper blocks SIGCHLD (it reaps through a signalfd): a brain it starts must not inherit that.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!d.oom_score.empty()) {
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      (void)!::write(fd, d.oom_score.data(), d.oom_score.size());
      ::close(fd);
    }
  }
  int high = ::fcntl(d.listen_fd, F_DUPFD_CLOEXEC, 10);
  int extra = d.extra_fd < 0 ? -1 : ::fcntl(d.extra_fd, F_DUPFD_CLOEXEC, 10);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  // containerd holds the log fifo open read-write, so this open does not block; non-blocking
  // writes mean a reader that stops reading costs log lines, never a stuck server.
  int log = d.log_path.empty() ? (d.log_fd < 0 ? -1 : ::fcntl(d.log_fd, F_DUPFD_CLOEXEC, 10))
                               : ::open(d.log_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (high < 0 || null < 0 || (d.extra_fd >= 0 && extra < 0)) ::_exit(127);
  if (!d.cwd.empty() && ::chdir(d.cwd.c_str()) < 0) ::_exit(127);
  ::dup2(null, 0);
  ::dup2(null, 1);
  ::dup2(log >= 0 ? log : null, 2);
  ::dup2(high, 3);
  if (extra >= 0) ::dup2(extra, 4);
  ::syscall(SYS_close_range, extra >= 0 ? 5U : 4U, ~0U, 0U);
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

}  // namespace tsrun::shim

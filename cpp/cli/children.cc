#include "children.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../shim/common.h"

namespace tsrun::cli {

void kill_children() {
  std::string all;
  shim::read_file("/proc/self/task/" + std::to_string(::getpid()) + "/children", &all);
  const char* p = all.c_str();
  while (*p) {
    char* end;
    long child = std::strtol(p, &end, 10);
    if (end == p) break;
    if (child > 0) ::kill(static_cast<pid_t>(child), SIGKILL);
    p = end;
  }
  int status;
  while (::waitpid(-1, &status, 0) > 0 || errno == EINTR) {
  }
}

std::vector<std::string> cold_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {shim::node_executable(), shim::package_root() + "/bin/tsrun.cjs"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> cold_env() { return shim::server_environment(); }

int run_cold(const std::vector<std::string>& args, const sigset_t& mask) {
  pid_t pid = ::fork();
  if (pid == 0) exec_cold(args, mask);
  if (pid < 0) return 1;
  int status;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void exec_cold(const std::vector<std::string>& args, const sigset_t& mask) {
  auto argv = cold_argv(args);
  auto env = cold_env();
  auto cargv = shim::c_strings(argv);
  auto cenv = shim::c_strings(env);
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  ::execve(cargv[0], cargv.data(), cenv.data());
  std::string line = "tsrun: cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
  shim::write_all(2, line);
  ::_exit(1);
}

}  // namespace tsrun::cli

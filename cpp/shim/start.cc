// `start`: find or launch the server for the container's group and print its address.
//
// containerd reads stdout and stderr together as the address, and waits for EOF on both:
// nothing but the address is printed, and the server gets neither stream.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "actions.h"
#include "common.h"
#include "grouping.h"
#include "json.h"

extern char** environ;

namespace tsrun::shim {
namespace {

enum class Bound { Listening, Alive };

bool probe(const std::string& path) {
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// Binds and listens at path. When it is taken by a live server, that server is the group's;
// a dead one's socket file is removed and the bind tried again.
Bound bind_group_socket(const std::string& path, int* fd_out) {
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) die("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  for (int attempt = 0; attempt < 3; attempt++) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0) {
      if (::chmod(path.c_str(), 0600) < 0 || ::listen(fd, 128) < 0) {
        int e = errno;
        ::unlink(path.c_str());
        die("listen " + path + ": " + std::strerror(e));
      }
      *fd_out = fd;
      return Bound::Listening;
    }
    int e = errno;
    ::close(fd);
    if (e != EADDRINUSE) die("bind " + path + ": " + std::strerror(e));
    if (probe(path)) return Bound::Alive;
    ::unlink(path.c_str());
  }
  die("bind " + path + ": address in use and no server answers");
}

// containerd's oom_score_adj + 1: under memory pressure the shim goes before containerd.
std::string server_oom_score(pid_t containerd) {
  std::string text;
  if (!read_file("/proc/" + std::to_string(containerd) + "/oom_score_adj", &text)) return "";
  int score = std::atoi(text.c_str()) + 1;
  if (score > 1000) score = 1000;
  return std::to_string(score);
}

std::vector<std::string> server_argv(const Args& a, const std::string& socket) {
  std::vector<std::string> argv = {node_executable(), package_root() + "/dist/shim/main.js",
                                   "-namespace",      a.ns,
                                   "-id",             a.id,
                                   "-address",        a.address,
                                   "-publish-binary", a.publish_binary,
                                   "-socket",         socket};
  if (a.debug) argv.push_back("-debug");
  return argv;
}

// The server: its own session, stdin and stdout on /dev/null, stderr on the bundle's log
// fifo (containerd reads it), the listening socket as fd 3 and no other fd.
void spawn_server(const Args& a, const std::string& socket, int listen_fd) {
  std::vector<std::string> args = server_argv(a, socket);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string oom = server_oom_score(::getppid());

  pid_t pid = ::fork();
  if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (pid > 0) return;

  ::setsid();
  ::signal(SIGPIPE, SIG_DFL);
  if (!oom.empty()) {
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      (void)!::write(fd, oom.data(), oom.size());
      ::close(fd);
    }
  }
  int high = ::fcntl(listen_fd, F_DUPFD_CLOEXEC, 10);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  // containerd holds the fifo open read-write, so this open does not block; non-blocking
  // writes mean a reader that stops reading costs log lines, never a stuck server.
  int log = ::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (high < 0 || null < 0) ::_exit(127);
  ::dup2(null, 0);
  ::dup2(null, 1);
  ::dup2(log >= 0 ? log : null, 2);
  ::dup2(high, 3);
  ::syscall(SYS_close_range, 4U, ~0U, 0U);
  ::execve(argv[0], argv.data(), environ);
  ::_exit(127);
}

}  // namespace

int run_start(const Args& a) {
  if (a.ns.empty() || a.id.empty() || a.address.empty()) die("start needs -namespace, -address and -id");
  // containerd may write the runtime options (or 2.3's bootstrap parameters) on stdin; the
  // server takes the options from Create, so they are read and set aside.
  char sink[4096];
  while (::read(0, sink, sizeof(sink)) > 0) {
  }

  std::string text;
  if (!read_file("config.json", &text)) die(std::string("read config.json in the bundle: ") + std::strerror(errno));
  json::Value config;
  std::string error;
  if (!json::parse(text, &config, &error)) die("config.json: " + error);
  std::string group = group_of(config, a.id, ::getenv("TSRUN_SHIM_GROUPING"));

  std::string dir = socket_dir();
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) die("mkdir " + dir + ": " + std::strerror(errno));
  std::string socket = group_socket(a, group);
  int fd = -1;
  if (bind_group_socket(socket, &fd) == Bound::Listening) {
    spawn_server(a, socket, fd);
    ::close(fd);
  }
  std::string address = "unix://" + socket;
  if (!write_file_atomic("address", address)) die(std::string("write address: ") + std::strerror(errno));
  write_all(1, address);
  return 0;
}

}  // namespace tsrun::shim

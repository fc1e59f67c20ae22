#include "server_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../shim/common.h"
#include "../shim/sha256.h"

namespace tsrun::cli {
namespace {

constexpr int kStartTimeoutMs = 20000;  // a Node start on a loaded machine, with room

std::string ns_inode(const char* ns) {
  struct stat st;
  if (::stat((std::string("/proc/self/ns/") + ns).c_str(), &st) < 0) return "0";
  return std::to_string(st.st_ino);
}

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Runs the server in a session of its own, a grandchild nobody waits for, with nothing of
// ours but the write end of ready on fd 3. Returns at once.
bool spawn_server(const ServerPlace& place, int ready) {
  std::vector<std::string> argv = {shim::node_executable(), server_script(), place.socket};
  std::vector<std::string> env = shim::server_environment();
  auto cargv = shim::c_strings(argv);
  auto cenv = shim::c_strings(env);
  pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int null = ::open("/dev/null", O_RDWR);
    if (null < 0 || ::dup2(ready, 3) < 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::close_range(4, ~0U, 0);
    if (::chdir("/") < 0) ::_exit(127);
    ::umask(022);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  int status;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return true;
}

}  // namespace

bool parent_waits_for_orphans() {
  std::string comm;
  return shim::read_file("/proc/" + std::to_string(::getppid()) + "/comm", &comm) && comm == "conmon\n";
}

bool server_place(ServerPlace* out) {
  uid_t uid = ::geteuid();
  std::string dir;
  const char* own = ::getenv("TSRUN_SERVER_DIR");
  if (own && *own == '/') {
    dir = own;
  } else if (uid == 0) {
    dir = "/run/tsrun-server";
  } else {
    const char* xdg = ::getenv("XDG_RUNTIME_DIR");
    if (!xdg || *xdg != '/') return false;
    dir = std::string(xdg) + "/tsrun-server";
  }
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return false;
  struct stat st;
  if (::lstat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) return false;
  std::string name = shim::sha256_hex(shim::package_root()).substr(0, 16) + "-" + ns_inode("mnt") + "-" + ns_inode("user");
  out->socket = dir + "/" + name + ".sock";
  out->lock = dir + "/" + name + ".lock";
  return out->socket.size() < sizeof(sockaddr_un{}.sun_path);
}

std::string server_script() {
  std::string root = shim::package_root();
  std::string bundle = root + "/dist/bundle/tsrun-server.cjs";
  return ::access(bundle.c_str(), R_OK) == 0 ? bundle : root + "/dist/server/entry.js";
}

std::string build_key() {
  struct stat st;
  if (::stat(server_script().c_str(), &st) < 0) return "";
  uint64_t ns = uint64_t(st.st_mtim.tv_sec) * 1000000000ull + uint64_t(st.st_mtim.tv_nsec);
  return std::to_string(st.st_size) + "-" + std::to_string(ns);
}

int connect_server(const ServerPlace& place) {
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, place.socket.c_str(), place.socket.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int start_server(const ServerPlace& place) {
  int lock = ::open(place.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) return -1;
  int64_t deadline = now_ms() + kStartTimeoutMs;
  while (::flock(lock, LOCK_EX | LOCK_NB) < 0) {
    if ((errno != EWOULDBLOCK && errno != EINTR) || now_ms() > deadline) {
      ::close(lock);
      return -1;
    }
    ::usleep(2000);
  }
  // Someone else may have started one while we waited for the lock.
  int conn = connect_server(place);
  if (conn >= 0) {
    ::close(lock);
    return conn;
  }
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) {
    ::close(lock);
    return -1;
  }
  bool started = spawn_server(place, pipefd[1]);
  ::close(pipefd[1]);
  char buf[16];
  ssize_t n = 0;
  if (started) {
    struct pollfd p = {pipefd[0], POLLIN, 0};
    int left = static_cast<int>(deadline - now_ms());
    if (left > 0 && ::poll(&p, 1, left) > 0) {
      do {
        n = ::read(pipefd[0], buf, sizeof(buf));
      } while (n < 0 && errno == EINTR);
    }
  }
  ::close(pipefd[0]);
  conn = n > 0 ? connect_server(place) : -1;
  ::close(lock);
  return conn;
}

}  // namespace tsrun::cli

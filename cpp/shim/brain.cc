#include "brain.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common.h"
#include "detach.h"
#include "sha256.h"
#include "sockets.h"
#include "spare.h"

namespace tsrun::shim {

bool shared_brain_enabled() {
  const char* v = ::getenv("TSRUN_SHIM_HOST");
  return !(v && std::string(v) == "0");
}

std::string brain_socket(const Args& a, const std::string& group_socket) {
  if (shared_brain_enabled()) {
    return socket_dir() + "/host-" + sha256_hex(a.address + "\n" + a.ns + "\n" + package_root()).substr(0, 48);
  }
  return socket_dir() + "/brain-" + sha256_hex(group_socket + "\n" + package_root()).substr(0, 48);
}

namespace {

std::vector<std::string> brain_argv(const Args& a, const std::string& path) {
  std::vector<std::string> argv = server_command();
  argv.insert(argv.end(), {"-brain", path, "-namespace", a.ns, "-address", a.address, "-publish-binary", a.publish_binary});
  if (a.debug) argv.push_back("-debug");
  return argv;
}

}  // namespace

int connect_brain(const Args& a, const std::string& path, const BrainLaunch& launch, BrainFound* found,
                  std::string* error) {
  *found = BrainFound::Running;
  for (int attempt = 0; attempt < 3; attempt++) {
    int e = 0;
    int fd = connect_unix(path, &e);
    if (fd >= 0) return fd;
    int listen_fd = -1;
    Bound bound = bind_socket(path, &listen_fd, error);
    if (bound == Bound::Failed) return -1;
    if (bound == Bound::Alive) continue;  // another keeper started one a moment ago
    // Ours to start: the connection below waits in the socket's backlog until it serves.
    if (launch.spares && spares_enabled() && adopt_spare(a, path, listen_fd, launch.log_fd, launch.oom_score)) {
      *found = BrainFound::Adopted;
    } else {
      Detached d;
      d.argv = brain_argv(a, path);
      d.listen_fd = listen_fd;
      d.log_fd = launch.log_fd;
      d.cwd = "/";
      d.oom_score = launch.oom_score;
      if (spawn_detached(d) < 0) {
        *error = std::string("fork: ") + std::strerror(errno);
        ::close(listen_fd);
        ::unlink(path.c_str());
        return -1;
      }
      *found = BrainFound::Spawned;
    }
    ::close(listen_fd);
    fd = connect_unix(path, &e);
    if (fd >= 0) return fd;
    *error = "connect " + path + ": " + std::strerror(e);
    return -1;
  }
  *error = "connect " + path + ": no brain answers, and none could be started";
  return -1;
}

}  // namespace tsrun::shim

// `start`: find or launch the server for the container's group and print its address.
//
// containerd reads stdout and stderr together as the address, and waits for EOF on both:
// nothing but the address is printed, and the server gets neither stream. A new group goes
// to the namespace's host (host.h); without one, to a waiting spare (spare.h) or a new Node
// process, which becomes the host.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "actions.h"
#include "common.h"
#include "detach.h"
#include "grouping.h"
#include "handover.h"
#include "host.h"
#include "json.h"
#include "sockets.h"
#include "spare.h"

namespace tsrun::shim {
namespace {

std::vector<std::string> server_argv(const Args& a, const std::string& socket, const std::string& host, int host_fd) {
  std::vector<std::string> argv = server_command();
  argv.insert(argv.end(), {"-namespace", a.ns, "-id", a.id, "-address", a.address, "-publish-binary", a.publish_binary, "-socket", socket});
  if (host_fd >= 0) argv.insert(argv.end(), {"-host", host});
  if (a.debug) argv.push_back("-debug");
  return argv;
}

// A new server: the group's listening socket as fd 3, the host socket (if any) as fd 4, the
// bundle's log fifo as stderr.
void spawn_server(const Args& a, const std::string& socket, int listen_fd, const std::string& host, int host_fd) {
  Detached d;
  d.argv = server_argv(a, socket, host, host_fd);
  d.listen_fd = listen_fd;
  d.host_fd = host_fd;
  d.log_path = "log";
  d.oom_score = server_oom_score();
  if (!spawn_detached(d)) die(std::string("fork: ") + std::strerror(errno));
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
  Bound bound = bind_socket(socket, &fd, &error);
  if (bound == Bound::Failed) die(error);
  bool spares = spares_enabled();
  bool new_process = false;
  if (bound == Bound::Listening) {
    bool hosted = false;
    std::string host;
    int host_fd = -1;
    if (hosting_enabled()) {
      host = host_socket(a);
      // The host takes the group. With none there, this group's server becomes it, unless
      // another start bound the host socket a moment ago: that host takes the group once it
      // is up (the connection waits in its backlog). A host that would not take the group,
      // or a host socket that cannot be bound: this group's server serves it alone.
      Handed handed = hand_over(host, a, socket, fd);
      if (handed == Handed::Nobody && bind_socket(host, &host_fd, &error) == Bound::Alive) handed = hand_over(host, a, socket, fd);
      hosted = handed == Handed::Taken;
    }
    if (!hosted) {
      new_process = true;
      if (!spares || !adopt_spare(a, socket, fd, host, host_fd)) spawn_server(a, socket, fd, host, host_fd);
    }
    if (host_fd >= 0) ::close(host_fd);
    ::close(fd);
  }
  std::string address = "unix://" + socket;
  if (!write_file_atomic("address", address)) die(std::string("write address: ") + std::strerror(errno));
  write_all(1, address);
  // containerd waits for EOF on both streams: they go now, not when we exit.
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::close(null);
  }
  // The next new process finds a server ready: after a new container's or pod's group took
  // one, for when its host has gone (with its last group) and groups come again. Not after
  // a group the host took, nor after a namespace's (group ""): its next containers reuse
  // it, and a spare waiting for nothing only costs memory.
  if (spares && new_process && !group.empty()) ensure_spare(a);
  return 0;
}

}  // namespace tsrun::shim

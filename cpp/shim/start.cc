// `start`: find or make the keeper of the container's group and print its address.
//
// containerd reads stdout and stderr together as the address, and waits for EOF on both:
// nothing but the address is printed, and neither the keeper nor the brain gets either
// stream. A new group gets a keeper (cpp/keeper), attached to the namespace's brain
// (brain.h), which is started first when none runs.
#include <fcntl.h>
#include <signal.h>
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
#include "brain.h"
#include "json.h"
#include "shim-cgroup.h"
#include "sockets.h"
#include "spare.h"

namespace tsrun::shim {
namespace {

// The group's keeper: the group's listening socket as fd 3, its connection to the brain as
// fd 4, the bundle's log fifo as stderr, in a session of its own (detach.h).
pid_t spawn_keeper(const Args& a, const std::string& socket, int listen_fd, int brain_fd, const std::string& oom) {
  Detached d;
  d.argv = {self_executable(), "-namespace", a.ns, "-id", a.id, "-address", a.address, "-publish-binary", a.publish_binary, "-socket", socket};
  if (a.debug) d.argv.push_back("-debug");
  d.argv.push_back("keep");
  d.listen_fd = listen_fd;
  d.extra_fd = brain_fd;
  d.log_path = "log";
  d.cwd = "/";
  d.oom_score = oom;
  return spawn_detached(d);
}

}  // namespace

int run_start(const Args& a) {
  if (a.ns.empty() || a.id.empty() || a.address.empty()) die("start needs -namespace, -address and -id");
  // containerd may write the runtime options (or 2.3's bootstrap parameters) on stdin: the
  // brain takes the options from Create; start wants their ShimCgroup alone.
  std::string options;
  char buf[4096];
  for (ssize_t n; (n = ::read(0, buf, sizeof(buf))) > 0;) options.append(buf, static_cast<size_t>(n));
  std::string shim_cgroup = shim_cgroup_of(options);

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
  bool new_brain = false;
  if (bound == Bound::Listening) {
    // A new group: its keeper, attached to the brain (started now if none runs). Failing,
    // the group's socket goes, so that the next start does not take it for a live one.
    BrainLaunch launch;
    launch.oom_score = server_oom_score();
    launch.log_fd = ::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    BrainFound found;
    int brain = connect_brain(a, brain_socket(a, socket), launch, &found, &error);
    if (launch.log_fd >= 0) ::close(launch.log_fd);
    pid_t keeper = brain < 0 ? -1 : spawn_keeper(a, socket, fd, brain, launch.oom_score);
    if (brain >= 0 && keeper < 0) error = std::string("fork: ") + std::strerror(errno);
    // The keeper stands for the pod: it goes where the options say the shim goes, as
    // runc's shim does, or the group does not start.
    if (keeper > 0 && !shim_cgroup.empty() && !join_cgroup(keeper, shim_cgroup, &error)) {
      ::kill(keeper, SIGKILL);
      error = "shim cgroup " + shim_cgroup + ": " + error;
      keeper = -1;
    }
    if (keeper < 0) {
      ::unlink(socket.c_str());
      die(error);
    }
    new_brain = found != BrainFound::Running;
    ::close(brain);
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
  // The next brain to start finds one ready: after a group made a brain start (the first
  // of a namespace, or each one with TSRUN_SHIM_HOST=0), for the next namespace, or for a
  // keeper whose brain has died. Not after a namespace's group (group ""): its next
  // containers reuse it, and a spare waiting for nothing only costs memory.
  if (spares_enabled() && new_brain && !group.empty()) ensure_spare(a);
  return 0;
}

}  // namespace tsrun::shim

// `delete`: containerd lost its connection to the shim for this container (or restarted and
// could not reach it) and wants everything the container left behind gone.
//
// A live server does the work and answers with the DeleteResponse we print; this costs no
// Node start, which matters because containerd runs `delete` after every task. Only when
// no server answers do we clean up ourselves: tsrun deletes the container's state, cgroups
// and processes (only if there is state), and we unmount the rootfs.
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "actions.h"
#include "common.h"
#include "json.h"
#include "proto.h"
#include "sockets.h"
#include "ttrpc_call.h"

extern char** environ;

namespace tsrun::shim {
namespace {

constexpr uint32_t kKilledStatus = 128 + 9;  // what containerd reports for a container we had to kill
constexpr int kServerTimeoutMs = 4000;       // containerd gives `delete` 5 s in all

void warn(const std::string& message) { write_all(2, "containerd-shim-ts-v2: " + message + "\n"); }

uint32_t init_pid(const std::string& state_file) {
  std::string text;
  json::Value state;
  std::string error;
  if (!read_file(state_file, &text) || !json::parse(text, &state, &error)) return 0;
  const json::Value* pid = state.get("pid");
  return pid && pid->type == json::Value::Type::Number && pid->number > 0 ? static_cast<uint32_t>(pid->number) : 0;
}

// `tsrun --root <root> delete --force <id>`, its output on our stderr (containerd logs it).
void tsrun_delete(const std::string& root, const std::string& id) {
  // bin/tsrun: the native client, served by the warm CLI server (or running Node itself).
  std::vector<std::string> args = {package_root() + "/bin/tsrun", "--root", root, "delete", "--force", id};
  std::vector<char*> argv = c_strings(args);
  pid_t pid = ::fork();
  if (pid < 0) {
    warn(std::string("fork: ") + std::strerror(errno));
    return;
  }
  if (pid == 0) {
    ::dup2(2, 1);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) warn("tsrun delete --force " + id + " failed");
}

// Stacked mounts come off one by one; a busy one is detached.
void unmount_all(const std::string& target) {
  for (int i = 0; i < 128; i++) {
    if (::umount2(target.c_str(), 0) == 0) continue;
    if (errno == EBUSY && ::umount2(target.c_str(), MNT_DETACH) == 0) continue;
    if (errno != EINVAL && errno != ENOENT) warn("unmount " + target + ": " + std::strerror(errno));
    return;
  }
}

int cleanup_ourselves(const Args& a, const std::string& bundle, const std::string& server_socket) {
  std::string root = state_root(a.ns, bundle);
  std::string dir = root + "/" + a.id;
  uint32_t pid = init_pid(dir + "/state.json");
  if (exists(dir)) tsrun_delete(root, a.id);
  unmount_all(bundle + "/rootfs");
  // A killed server leaves its socket file behind; nobody else would remove it.
  if (!server_socket.empty() && connect_errno(server_socket) == ECONNREFUSED) ::unlink(server_socket.c_str());
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  write_all(1, proto::delete_response(pid, kKilledStatus, now.tv_sec, static_cast<int32_t>(now.tv_nsec)));
  return 0;
}

}  // namespace

int run_delete(const Args& a) {
  if (a.id.empty()) die("delete needs -id");
  std::string bundle = a.bundle;
  if (bundle.empty()) {
    char cwd[4096];
    if (!::getcwd(cwd, sizeof(cwd))) die("getcwd: " + std::string(std::strerror(errno)));
    bundle = cwd;
  }
  std::string address;
  std::string socket;
  if (read_file(bundle + "/address", &address)) socket = strip_unix(address);
  if (!socket.empty()) {
    proto::Response r;
    if (ttrpc_call(socket, kCleanupService, kCleanupMethod, proto::delete_request(a.id), kServerTimeoutMs, &r) ==
        CallOutcome::Answered) {
      if (r.code == 0) {
        // The server unmounts what it mounted; a rootfs a killed predecessor left is ours.
        unmount_all(bundle + "/rootfs");
        write_all(1, r.payload);
        return 0;
      }
      // Unavailable: the server is shutting down; anything else is worth a line in the log.
      if (r.code != 14) warn("shim server could not clean up: " + r.message);
    }
  }
  return cleanup_ourselves(a, bundle, socket);
}

}  // namespace tsrun::shim

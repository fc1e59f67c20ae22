#include "spare.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "detach.h"
#include "handover.h"
#include "sha256.h"
#include "sockets.h"

namespace tsrun::shim {
namespace {

// Room in the spare's argv for the title it takes once adopted (ps shows the group's flags).
constexpr size_t kTitleRoom = 1536;

}  // namespace

bool spares_enabled() {
  const char* v = ::getenv("TSRUN_SHIM_SPARE");
  return !(v && std::string(v) == "0");
}

std::string spare_socket(const Args& a) {
  return socket_dir() + "/spare-" + sha256_hex(a.address + "\n" + package_root()).substr(0, 48);
}

bool adopt_spare(const Args& a, const std::string& brain_socket, int listen_fd, int log_fd, const std::string& oom_score) {
  return hand_over(spare_socket(a), a, brain_socket, listen_fd, log_fd, oom_score) == Handed::Taken;
}

void ensure_spare(const Args& a) {
  std::string path = spare_socket(a);
  int fd = -1;
  std::string error;
  if (bind_socket(path, &fd, &error) != Bound::Listening) return;  // one waits already, or none can
  Detached d;
  // Which socket file is the spare's (src/shim/spare.ts identity()): it leaves the path
  // alone, and gives up waiting, once another file is there.
  struct stat st{};
  if (::stat(path.c_str(), &st) < 0) {
    ::close(fd);
    return;
  }
  std::string file = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
                     std::to_string(uint64_t(st.st_ctim.tv_sec) * 1000000000ULL + uint64_t(st.st_ctim.tv_nsec));
  d.argv = server_command();
  d.argv.insert(d.argv.end(), {"-spare", path, "-spare-file", file, "-title-room", std::string(kTitleRoom, ' ')});
  d.listen_fd = fd;
  d.cwd = "/";
  d.oom_score = server_oom_score();
  if (spawn_detached(d) < 0) ::unlink(path.c_str());
  ::close(fd);
}

}  // namespace tsrun::shim

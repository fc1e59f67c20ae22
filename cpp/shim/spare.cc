#include "spare.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common.h"
#include "detach.h"
#include "sha256.h"
#include "sockets.h"

extern char** environ;

namespace tsrun::shim {
namespace {

// How long the launcher waits for the spare's answer. The spare answers before it does any
// work; a loaded machine may still take a while to schedule it.
constexpr int kAnswerTimeoutMs = 3000;
// Room in the spare's argv for the title it takes once adopted (ps shows the group's flags).
constexpr size_t kTitleRoom = 1536;

void item(std::string* out, const std::string& s) {
  out->append(s);
  out->push_back('\0');
}

// NUL-terminated items: the magic, key=value pairs, an empty item, then the environment.
std::string adoption_message(const Args& a, const std::string& group_socket, bool with_log) {
  std::string m;
  item(&m, kAdoptMagic);
  item(&m, "namespace=" + a.ns);
  item(&m, "id=" + a.id);
  item(&m, "address=" + a.address);
  item(&m, "publish-binary=" + a.publish_binary);
  item(&m, "socket=" + group_socket);
  item(&m, std::string("debug=") + (a.debug ? "1" : "0"));
  item(&m, std::string("log=") + (with_log ? "1" : "0"));
  item(&m, "oom=" + server_oom_score());
  item(&m, "");
  for (char** e = environ; *e; e++) item(&m, *e);
  return m;
}

bool send_with_fds(int sock, const std::string& data, const int* fds, size_t nfds) {
  char cbuf[CMSG_SPACE(2 * sizeof(int))]{};
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
  std::memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  // The fds went with the first bytes; the rest is plain data.
  size_t off = static_cast<size_t>(n);
  while (off < data.size()) {
    ssize_t w = ::send(sock, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

// The spare's answer: "1" = the group is its. Past the deadline the connection is shut
// down both ways, which makes a later answer fail on the spare's side (EPIPE) and so undoes
// the adoption there; an answer that made it before the shutdown is still read.
bool answered(int sock) {
  struct pollfd p = {sock, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, kAnswerTimeoutMs);
  } while (r < 0 && errno == EINTR);
  if (r == 0) ::shutdown(sock, SHUT_RDWR);
  char c = 0;
  ssize_t n;
  do {
    n = ::recv(sock, &c, 1, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n == 1 && c == '1';
}

}  // namespace

bool spares_enabled() {
  const char* v = ::getenv("TSRUN_SHIM_SPARE");
  return !(v && std::string(v) == "0");
}

std::string spare_socket(const Args& a) {
  return socket_dir() + "/spare-" + sha256_hex(a.address + "\n" + package_root()).substr(0, 48);
}

bool adopt_spare(const Args& a, const std::string& group_socket, int listen_fd) {
  int sock = connect_unix(spare_socket(a));
  if (sock < 0) return false;
  int log = ::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  int fds[2] = {listen_fd, log};
  bool ok = send_with_fds(sock, adoption_message(a, group_socket, log >= 0), fds, log >= 0 ? 2 : 1) &&
            ::shutdown(sock, SHUT_WR) == 0 && answered(sock);
  if (log >= 0) ::close(log);
  ::close(sock);
  return ok;
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
  if (!spawn_detached(d)) ::unlink(path.c_str());
  ::close(fd);
}

}  // namespace tsrun::shim

#include "handover.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common.h"
#include "detach.h"
#include "sockets.h"

extern char** environ;

namespace tsrun::shim {
namespace {

// How long the launcher waits for the answer. A spare answers before it does any work, a
// host as soon as its event loop gets to it; a freshly started host (the connection waited
// in its backlog) after its Node start-up, which a loaded machine may stretch.
constexpr int kAnswerTimeoutMs = 3000;

void item(std::string* out, const std::string& s) {
  out->append(s);
  out->push_back('\0');
}

// NUL-terminated items: the magic, key=value pairs, an empty item, then the environment.
std::string adoption_message(const Args& a, const std::string& group_socket, bool with_log, const std::string& host_socket) {
  std::string m;
  item(&m, kAdoptMagic);
  item(&m, "namespace=" + a.ns);
  item(&m, "id=" + a.id);
  item(&m, "address=" + a.address);
  item(&m, "publish-binary=" + a.publish_binary);
  item(&m, "socket=" + group_socket);
  item(&m, "host=" + host_socket);
  item(&m, std::string("debug=") + (a.debug ? "1" : "0"));
  item(&m, std::string("log=") + (with_log ? "1" : "0"));
  item(&m, "oom=" + server_oom_score());
  item(&m, "");
  for (char** e = environ; *e; e++) item(&m, *e);
  return m;
}

bool send_with_fds(int sock, const std::string& data, const std::vector<int>& fds) {
  char cbuf[CMSG_SPACE(3 * sizeof(int))]{};
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
  std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
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

// Past the deadline the connection is shut down both ways, which makes a later answer fail
// on the receiver's side (EPIPE) and so undoes the hand-over there; an answer that made it
// before the shutdown is still read.
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

Handed hand_over(const std::string& to, const Args& a, const std::string& group_socket, int listen_fd,
                 const std::string& host_socket, int host_fd) {
  int sock = connect_unix(to);
  if (sock < 0) return Handed::Nobody;
  int log = ::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  std::vector<int> fds = {listen_fd};
  if (log >= 0) fds.push_back(log);
  if (host_fd >= 0) fds.push_back(host_fd);
  bool ok = send_with_fds(sock, adoption_message(a, group_socket, log >= 0, host_fd >= 0 ? host_socket : ""), fds) &&
            ::shutdown(sock, SHUT_WR) == 0 && answered(sock);
  if (log >= 0) ::close(log);
  ::close(sock);
  return ok ? Handed::Taken : Handed::Refused;
}

}  // namespace tsrun::shim

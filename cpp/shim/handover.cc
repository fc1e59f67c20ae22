#include "handover.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "../sys/scm.h"
#include "common.h"
#include "sockets.h"

extern char** environ;

namespace tsrun::shim {
namespace {

// How long the sender waits for the answer. A spare answers before it does any work; a
// loaded machine may still take a while to schedule it.
constexpr int kAnswerTimeoutMs = 3000;

void item(std::string* out, const std::string& s) {
  out->append(s);
  out->push_back('\0');
}

// NUL-terminated items: the magic, key=value pairs, an empty item, then the environment.
std::string adoption_message(const Args& a, const std::string& brain_socket, bool with_log, const std::string& oom) {
  std::string m;
  item(&m, kAdoptMagic);
  item(&m, "namespace=" + a.ns);
  item(&m, "address=" + a.address);
  item(&m, "publish-binary=" + a.publish_binary);
  item(&m, "brain=" + brain_socket);
  item(&m, std::string("debug=") + (a.debug ? "1" : "0"));
  item(&m, std::string("log=") + (with_log ? "1" : "0"));
  item(&m, "oom=" + oom);
  item(&m, "");
  for (char** e = environ; *e; e++) item(&m, *e);
  return m;
}

bool send_with_fds(int sock, const std::string& data, const std::vector<int>& fds) {
  ssize_t n = sys::send_with_fds(sock, data.data(), data.size(), fds.data(), fds.size(), 0);
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

Handed hand_over(const std::string& to, const Args& a, const std::string& brain_socket, int listen_fd, int log_fd,
                 const std::string& oom_score) {
  int sock = connect_unix(to);
  if (sock < 0) return Handed::Nobody;
  std::vector<int> fds = {listen_fd};
  if (log_fd >= 0) fds.push_back(log_fd);
  bool ok = send_with_fds(sock, adoption_message(a, brain_socket, log_fd >= 0, oom_score), fds) &&
            ::shutdown(sock, SHUT_WR) == 0 && answered(sock);
  ::close(sock);
  return ok ? Handed::Taken : Handed::Refused;
}

}  // namespace tsrun::shim

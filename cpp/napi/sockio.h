// Waiting on and receiving from unix sockets, for the addon's calls that take fds passed
// with SCM_RIGHTS (the console's pty master, a spare server's adoption).
#pragma once
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tsrun::napi {

// 1 when fd is readable, 0 when timeout_ms passed first (a negative one counts as 0), -1 on
// error with errno set.
inline int wait_readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
  } while (r < 0 && errno == EINTR);
  return r;
}

// One recvmsg into buf; every fd that came with it is appended to *fds (close-on-exec), even
// when the call then reports an error. *truncated: the sender passed more fds than fit, and
// the kernel closed the rest.
inline ssize_t recv_with_fds(int sock, char* buf, size_t len, int flags, std::vector<int>* fds, bool* truncated) {
  constexpr int kMaxFds = 8;
  char cbuf[CMSG_SPACE(kMaxFds * sizeof(int))];
  struct iovec iov = {buf, len};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof(cbuf);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  int e = errno;
  if (n >= 0) {
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds->push_back(fd);
      }
    }
  }
  *truncated = n >= 0 && (msg.msg_flags & MSG_CTRUNC) != 0;
  errno = e;
  return n;
}

}  // namespace tsrun::napi

// Unix socket messages that carry fds (SCM_RIGHTS): one sendmsg or recvmsg each, for the
// addon, the launcher and the keeper alike. Header-only, no allocation on the send side.
#pragma once
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tsrun::sys {

/** SCM_MAX_FD: the most fds one message can carry. */
constexpr size_t kMaxFds = 253;

/** One sendmsg of len bytes, with nfds fds (at most kMaxFds) attached to the first byte when
 *  nfds > 0; the bytes sent, or -1 with errno set. */
inline ssize_t send_with_fds(int sock, const void* data, size_t len, const int* fds, size_t nfds, int flags) {
  char cbuf[CMSG_SPACE(kMaxFds * sizeof(int))];
  struct iovec iov = {const_cast<void*>(data), len};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    if (nfds > kMaxFds) {
      errno = EINVAL;
      return -1;
    }
    std::memset(cbuf, 0, sizeof(cbuf));
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

/** One recvmsg into buf; every fd that came with it is appended to *fds (close-on-exec), even
 *  when the call then reports an error. *truncated: the sender passed more fds than fit, and
 *  the kernel closed the rest. */
inline ssize_t recv_with_fds(int sock, void* buf, size_t len, int flags, std::vector<int>* fds, bool* truncated) {
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

}  // namespace tsrun::sys

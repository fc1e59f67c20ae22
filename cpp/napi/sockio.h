// Waiting on and receiving from unix sockets, for the addon's calls that take fds passed
// with SCM_RIGHTS (the console's pty master, a spare server's adoption).
#pragma once
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "../sys/scm.h"

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

using sys::recv_with_fds;

}  // namespace tsrun::napi

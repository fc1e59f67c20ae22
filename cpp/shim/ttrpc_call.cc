#include "ttrpc_call.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sockets.h"
#include "ttrpc_frame.h"

namespace tsrun::shim {
namespace {

using ttrpc::kHeader;

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool wait_for(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    struct pollfd p = {fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

bool write_all(int fd, const std::string& data, int64_t deadline) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool read_exact(int fd, char* buf, size_t len, int64_t deadline) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = ::recv(fd, buf + off, len - off, MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLIN, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

CallOutcome ttrpc_call(const std::string& socket_path, const std::string& service, const std::string& method,
                       const std::string& payload, int timeout_ms, proto::Response* response) {
  if (socket_path.empty()) return CallOutcome::Unreachable;
  int fd = connect_unix(socket_path);
  if (fd < 0) return CallOutcome::Unreachable;
  int64_t deadline = now_ms() + timeout_ms;
  auto fail = [fd] {
    ::close(fd);
    return CallOutcome::Unreachable;
  };

  std::string body = proto::request(service, method, payload, int64_t(timeout_ms) * 1000000);
  // 1: the first client stream id
  if (!write_all(fd, ttrpc::frame(1, ttrpc::kTypeRequest, body), deadline)) return fail();

  for (;;) {
    char header[kHeader];
    if (!read_exact(fd, header, kHeader, deadline)) return fail();
    ttrpc::Header h = ttrpc::header_of(header);
    uint32_t len = h.length;
    if (len > ttrpc::kMaxData) return fail();
    std::string data(len, '\0');
    if (len > 0 && !read_exact(fd, data.data(), len, deadline)) return fail();
    if (h.stream != 1 || h.type != ttrpc::kTypeResponse) continue;
    ::close(fd);
    return proto::decode_response(data, response) ? CallOutcome::Answered : CallOutcome::Unreachable;
  }
}

}  // namespace tsrun::shim

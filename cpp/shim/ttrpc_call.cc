#include "ttrpc_call.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sockets.h"

namespace tsrun::shim {
namespace {

constexpr size_t kHeader = 10;
constexpr uint32_t kMaxData = 4 << 20;
constexpr uint8_t kTypeRequest = 1;
constexpr uint8_t kTypeResponse = 2;

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

void put_be32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) *out += static_cast<char>((v >> shift) & 0xff);
}

uint32_t get_be32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
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
  std::string frame;
  put_be32(&frame, static_cast<uint32_t>(body.size()));
  put_be32(&frame, 1);  // the first client stream id
  frame += static_cast<char>(kTypeRequest);
  frame += '\0';
  frame += body;
  if (!write_all(fd, frame, deadline)) return fail();

  for (;;) {
    char header[kHeader];
    if (!read_exact(fd, header, kHeader, deadline)) return fail();
    uint32_t len = get_be32(header);
    uint32_t stream = get_be32(header + 4);
    if (len > kMaxData) return fail();
    std::string data(len, '\0');
    if (len > 0 && !read_exact(fd, data.data(), len, deadline)) return fail();
    if (stream != 1 || static_cast<uint8_t>(header[8]) != kTypeResponse) continue;
    ::close(fd);
    return proto::decode_response(data, response) ? CallOutcome::Answered : CallOutcome::Unreachable;
  }
}

}  // namespace tsrun::shim

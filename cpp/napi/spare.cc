// What a spare shim server needs to be adopted (see cpp/shim/spare.h): wait, blocking, for
// the one connection that hands it a group (fds over SCM_RIGHTS, then data up to EOF), and
// put the group's log fifo on stderr. A spare has nothing else to do, so blocking the event
// loop while it waits costs nothing, and the wait doubles as its idle timer.
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "errors.h"

namespace tsrun::napi {
namespace {

constexpr int kMaxFds = 4;
constexpr int kReadTimeoutMs = 2000;    // a launcher sends everything at once
constexpr size_t kMaxData = 1 << 20;    // containerd's environment and a few flags

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool wait_readable(int fd, int timeout_ms) {
  if (timeout_ms < 0) timeout_ms = 0;
  struct pollfd p = {fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

// Reads one connection to EOF. False (everything closed) for a probe or a broken sender.
bool read_adoption(int conn, std::vector<int>* fds, std::string* data) {
  for (;;) {
    if (!wait_readable(conn, kReadTimeoutMs)) return false;
    char buf[65536];
    char cbuf[CMSG_SPACE(kMaxFds * sizeof(int))];
    struct iovec iov = {buf, sizeof(buf)};
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof(cbuf);
    ssize_t n;
    do {
      n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) continue;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds->push_back(fd);
      }
    }
    if (n < 0 || (msg.msg_flags & MSG_CTRUNC)) return false;
    if (n == 0) return !fds->empty() && !data->empty();
    data->append(buf, static_cast<size_t>(n));
    if (data->size() > kMaxData) return false;
  }
}

// takeAdoption(listenFd, timeoutMs) -> { conn, fds, data } | null when nobody adopted us
// within timeoutMs. Connections that bring no fds (probes, strays) are closed and skipped.
Napi::Value TakeAdoption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int lfd = int_arg(info, 0, "listenFd");
  int64_t deadline = now_ms() + int_arg(info, 1, "timeoutMs");
  for (;;) {
    if (!wait_readable(lfd, static_cast<int>(deadline - now_ms()))) return env.Null();
    int conn = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      throw errno_error(env, "accept4", errno, "spare socket");
    }
    std::vector<int> fds;
    std::string data;
    if (!read_adoption(conn, &fds, &data)) {
      for (int fd : fds) ::close(fd);
      ::close(conn);
      continue;
    }
    auto o = Napi::Object::New(env);
    o.Set("conn", Napi::Number::New(env, conn));
    auto arr = Napi::Array::New(env, fds.size());
    for (size_t i = 0; i < fds.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds[i]));
    o.Set("fds", arr);
    o.Set("data", Napi::Buffer<char>::Copy(env, data.data(), data.size()));
    return o;
  }
}

// dup2(from, to): the log fifo onto stderr (fd 2 stays open across exec, as stderr should).
Napi::Value Dup2(const Napi::CallbackInfo& info) {
  int from = int_arg(info, 0, "from");
  int to = int_arg(info, 1, "to");
  if (::dup2(from, to) < 0) throw errno_error(info.Env(), "dup2", errno);
  return info.Env().Undefined();
}

}  // namespace

void register_spare(Napi::Env env, Napi::Object exports) {
  exports.Set("takeAdoption", Napi::Function::New(env, TakeAdoption, "takeAdoption"));
  exports.Set("dup2", Napi::Function::New(env, Dup2, "dup2"));
}

}  // namespace tsrun::napi

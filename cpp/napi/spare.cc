// What a spare shim server needs to be adopted (see cpp/shim/spare.h): wait, blocking, for
// the one connection that hands it a group (fds over SCM_RIGHTS, then data up to EOF), and
// put the group's log fifo on stderr. A spare has nothing else to do, so blocking the event
// loop while it waits costs nothing, and the wait doubles as its idle timer.
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "errors.h"
#include "sockio.h"

namespace tsrun::napi {
namespace {

constexpr int kReadTimeoutMs = 2000;    // a launcher sends everything at once
constexpr size_t kMaxData = 1 << 20;    // containerd's environment and a few flags

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Reads one connection to EOF. False (everything closed) for a probe or a broken sender.
bool read_adoption(int conn, std::vector<int>* fds, std::string* data) {
  for (;;) {
    if (wait_readable(conn, kReadTimeoutMs) <= 0) return false;
    char buf[65536];
    bool truncated = false;
    ssize_t n = recv_with_fds(conn, buf, sizeof(buf), MSG_DONTWAIT, fds, &truncated);
    if (n < 0 && errno == EAGAIN) continue;
    if (n < 0 || truncated) return false;
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
    if (wait_readable(lfd, static_cast<int>(deadline - now_ms())) <= 0) return env.Null();
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

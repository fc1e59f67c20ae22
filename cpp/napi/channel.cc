// The brain's end of a keeper channel (proto/tsrun/keeper/v1/keeper.proto): bytes and the
// fds that come with them, which net.Socket cannot carry. Reading never blocks (the socket
// is watched with whenReadable). Writing blocks, bounded: a keeper is a native loop that
// never blocks and reads whatever comes, so a message waits only as long as the keeper
// takes to read it, and a keeper that does not read in kSendTimeoutMs is taken for dead.
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "sockio.h"

namespace tsrun::napi {
namespace {

constexpr int kSendTimeoutMs = 10000;
constexpr size_t kMaxRead = 16u << 20;

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// channelRecv(fd) -> { data, fds, eof }: everything waiting, without blocking.
Napi::Value ChannelRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = int_arg(info, 0, "fd");
  std::string data;
  std::vector<int> fds;
  bool eof = false;
  while (data.size() < kMaxRead) {
    char buf[65536];
    bool truncated = false;
    ssize_t n = recv_with_fds(fd, buf, sizeof(buf), MSG_DONTWAIT, &fds, &truncated);
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0 && errno != ECONNRESET) {
      int e = errno;
      for (int f : fds) ::close(f);
      throw errno_error(env, "recvmsg", e, "keeper channel");
    }
    if (n <= 0 || truncated) {
      // A truncated batch of fds breaks the channel's count: treated as the end, as is EOF.
      eof = true;
      break;
    }
    data.append(buf, static_cast<size_t>(n));
  }
  auto o = Napi::Object::New(env);
  o.Set("data", Napi::Buffer<char>::Copy(env, data.data(), data.size()));
  auto arr = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds[i]));
  o.Set("fds", arr);
  o.Set("eof", Napi::Boolean::New(env, eof));
  return o;
}

// channelSend(fd, data, fds): all of data, the fds with its first byte.
Napi::Value ChannelSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = int_arg(info, 0, "fd");
  if (info.Length() < 3 || !info[1].IsBuffer() || !info[2].IsArray()) throw Napi::TypeError::New(env, "channelSend(fd, data, fds)");
  auto buf = info[1].As<Napi::Buffer<char>>();
  auto arr = info[2].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < arr.Length(); i++) fds.push_back(arr.Get(i).As<Napi::Number>().Int32Value());
  if (fds.size() > sys::kMaxFds) throw Napi::TypeError::New(env, "at most 253 fds per message");
  const char* data = buf.Data();
  size_t len = buf.Length();
  size_t off = 0;
  int64_t deadline = now_ms() + kSendTimeoutMs;
  while (off < len) {
    // The fds go with the first byte; whatever follows is plain data.
    ssize_t n = off == 0 ? sys::send_with_fds(fd, data, len, fds.data(), fds.size(), MSG_DONTWAIT)
                         : sys::send_with_fds(fd, data + off, len - off, nullptr, 0, MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      int64_t left = deadline - now_ms();
      struct pollfd p = {fd, POLLOUT, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) throw errno_error(env, "send", ETIMEDOUT, "keeper channel");
      continue;
    }
    throw errno_error(env, "send", n < 0 ? errno : EPIPE, "keeper channel");
  }
  return env.Undefined();
}

}  // namespace

void register_channel(Napi::Env env, Napi::Object exports) {
  exports.Set("channelRecv", Napi::Function::New(env, ChannelRecv, "channelRecv"));
  exports.Set("channelSend", Napi::Function::New(env, ChannelSend, "channelSend"));
}

}  // namespace tsrun::napi

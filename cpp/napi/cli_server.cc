// What the CLI server (src/server) needs from the kernel that Node does not offer: a
// SOCK_SEQPACKET socket to listen on, whole records with the fds that came with them
// (SCM_RIGHTS, which net.Socket cannot pass), and who is at the other end.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "../cli/protocol.h"
#include "../sys/scm.h"
#include "errors.h"

namespace tsrun::napi {
namespace {

// seqpacketListen(path) -> fd: listening at path (mode 0600), non-blocking, close-on-exec.
Napi::Value SeqpacketListen(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) throw errno_error(info.Env(), "bind", ENAMETOOLONG, path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw errno_error(info.Env(), "socket", errno);
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0 || ::chmod(path.c_str(), 0600) < 0 ||
      ::listen(fd, 64) < 0) {
    int e = errno;
    ::close(fd);
    throw errno_error(info.Env(), "listen", e, path);
  }
  return Napi::Number::New(info.Env(), fd);
}

// recvMessage(fd) -> { data, fds } | null: one record and its fds (close-on-exec), taken
// without blocking; null when none waits; data empty and fds empty at the peer's close.
Napi::Value RecvMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = int_arg(info, 0, "fd");
  std::vector<char> buf(cli::kMaxMessage);
  std::vector<int> fds;
  bool truncated = false;
  ssize_t n = sys::recv_with_fds(fd, buf.data(), buf.size(), MSG_DONTWAIT, &fds, &truncated);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return env.Null();
  if (n < 0 && errno == ECONNRESET) n = 0;  // the peer died: as its close
  if (n < 0 || truncated) {
    int e = n < 0 ? errno : EMSGSIZE;
    for (int f : fds) ::close(f);
    throw errno_error(env, "recvmsg", e, "a CLI server record");
  }
  auto o = Napi::Object::New(env);
  o.Set("data", Napi::Buffer<char>::Copy(env, buf.data(), static_cast<size_t>(n)));
  auto arr = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds[i]));
  o.Set("fds", arr);
  return o;
}

// sendMessage(fd, data, fds): one record with fds; waits while the socket is full.
Napi::Value SendMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = int_arg(info, 0, "fd");
  if (info.Length() < 3 || !info[1].IsBuffer() || !info[2].IsArray()) throw Napi::TypeError::New(env, "sendMessage(fd, buffer, fds)");
  auto data = info[1].As<Napi::Buffer<char>>();
  auto arr = info[2].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < arr.Length(); i++) fds.push_back(arr.Get(i).As<Napi::Number>().Int32Value());
  for (;;) {
    if (sys::send_with_fds(fd, data.Data(), data.Length(), fds.data(), fds.size(), MSG_DONTWAIT) >= 0) break;
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw errno_error(env, "sendmsg", errno);
    struct pollfd p = {fd, POLLOUT, 0};
    ::poll(&p, 1, 1000);
  }
  return env.Undefined();
}

// peerCredentials(fd) -> { pid, uid, gid } of the process at the other end.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(int_arg(info, 0, "fd"), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) throw errno_error(env, "getsockopt", errno, "SO_PEERCRED");
  auto o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, cred.pid));
  o.Set("uid", Napi::Number::New(env, cred.uid));
  o.Set("gid", Napi::Number::New(env, cred.gid));
  return o;
}

}  // namespace

void register_cli_server(Napi::Env env, Napi::Object exports) {
  exports.Set("seqpacketListen", Napi::Function::New(env, SeqpacketListen, "seqpacketListen"));
  exports.Set("recvMessage", Napi::Function::New(env, RecvMessage, "recvMessage"));
  exports.Set("sendMessage", Napi::Function::New(env, SendMessage, "sendMessage"));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  auto p = Napi::Object::New(env);
  p.Set("version", Napi::Number::New(env, cli::kProtocolVersion));
  p.Set("call", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Call)));
  p.Set("spawned", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Spawned)));
  p.Set("status", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Status)));
  p.Set("signal", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Signal)));
  p.Set("spawn", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Spawn)));
  p.Set("wait", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Wait)));
  p.Set("undo", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Undo)));
  p.Set("exit", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Exit)));
  p.Set("cold", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Cold)));
  p.Set("defaultSignal", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::DefaultSignal)));
  p.Set("stale", Napi::Number::New(env, static_cast<uint32_t>(cli::Msg::Stale)));
  exports.Set("cliProtocol", p);
}

}  // namespace tsrun::napi

// Terminals for a foreground `run` or `exec -t` without --console-socket: we play the
// console socket's other end ourselves, receive the pty master tsrun-init sends over
// SCM_RIGHTS, and keep its window size in step with ours.
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <vector>

#include "errors.h"
#include "sockio.h"

namespace tsrun::napi {
namespace {

// recvFd(socketFd) -> { fd, name }: one fd sent with SCM_RIGHTS (blocking).
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  int sock = int_arg(info, 0, "socketFd");
  char name[4096];
  std::vector<int> fds;
  bool truncated = false;
  ssize_t n = recv_with_fds(sock, name, sizeof(name) - 1, 0, &fds, &truncated);
  if (n < 0) throw errno_error(info.Env(), "recvmsg", errno);
  // One fd is the protocol: anything more is not ours to keep.
  for (size_t i = 1; i < fds.size(); i++) ::close(fds[i]);
  if (fds.empty()) throw errno_error(info.Env(), "recvmsg", EBADMSG, "no fd in the message");
  name[n] = '\0';
  auto o = Napi::Object::New(info.Env());
  o.Set("fd", Napi::Number::New(info.Env(), fds[0]));
  o.Set("name", Napi::String::New(info.Env(), name));
  return o;
}

// getWinsize(fd) -> { rows, cols } | null when fd is not a terminal
Napi::Value GetWinsize(const Napi::CallbackInfo& info) {
  struct winsize ws{};
  if (::ioctl(int_arg(info, 0, "fd"), TIOCGWINSZ, &ws) < 0) return info.Env().Null();
  auto o = Napi::Object::New(info.Env());
  o.Set("rows", Napi::Number::New(info.Env(), ws.ws_row));
  o.Set("cols", Napi::Number::New(info.Env(), ws.ws_col));
  return o;
}

Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  struct winsize ws{};
  ws.ws_row = static_cast<unsigned short>(int_arg(info, 1, "rows"));
  ws.ws_col = static_cast<unsigned short>(int_arg(info, 2, "cols"));
  if (::ioctl(int_arg(info, 0, "fd"), TIOCSWINSZ, &ws) < 0) throw errno_error(info.Env(), "ioctl(TIOCSWINSZ)", errno);
  return info.Env().Undefined();
}

}  // namespace

void register_pty(Napi::Env env, Napi::Object exports) {
  exports.Set("recvFd", Napi::Function::New(env, RecvFd, "recvFd"));
  exports.Set("getWinsize", Napi::Function::New(env, GetWinsize, "getWinsize"));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize, "setWinsize"));
}

}  // namespace tsrun::napi

// File and socket calls Node does not offer: fifos, O_PATH opens, fd-level unix sockets.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "errors.h"

namespace tsrun::napi {
namespace {

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  int mode = int_arg(info, 1, "mode");
  if (::mkfifo(path.c_str(), static_cast<mode_t>(mode)) < 0) throw errno_error(info.Env(), "mkfifo", errno, path);
  // mkfifo applies the umask; the mode asked for is the mode meant.
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) < 0) throw errno_error(info.Env(), "chmod", errno, path);
  return info.Env().Undefined();
}

Napi::Value OpenPath(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) throw errno_error(info.Env(), "open", errno, path);
  return Napi::Number::New(info.Env(), fd);
}

// A blocking connect to a unix stream socket; the fd is handed to tsrun-init, so Node's
// net module (which keeps its fds to itself) does not fit.
Napi::Value UnixConnect(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    throw errno_error(info.Env(), "connect", ENAMETOOLONG, path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw errno_error(info.Env(), "socket", errno);
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int e = errno;
    ::close(fd);
    throw errno_error(info.Env(), "connect", e, path);
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw errno_error(info.Env(), "socketpair", errno);
  auto arr = Napi::Array::New(info.Env(), 2);
  arr.Set(0u, Napi::Number::New(info.Env(), sv[0]));
  arr.Set(1u, Napi::Number::New(info.Env(), sv[1]));
  return arr;
}

Napi::Value Strerror(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::strerror(int_arg(info, 0, "errno")));
}

}  // namespace

void register_fs(Napi::Env env, Napi::Object exports) {
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("openPath", Napi::Function::New(env, OpenPath, "openPath"));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect, "unixConnect"));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair, "socketPair"));
  exports.Set("strerror", Napi::Function::New(env, Strerror, "strerror"));
}

}  // namespace tsrun::napi

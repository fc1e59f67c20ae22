// What the shim server needs from the kernel that Node does not offer: pipes whose ends go
// to containers, a listening console socket (a pty master arrives as SCM_RIGHTS), accepting
// on its groups' sockets without net.Server, rootfs mounts, and a look at a pidfd that does
// not reap.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>


#include "errors.h"
#include "sockio.h"

namespace tsrun::napi {
namespace {

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw errno_error(info.Env(), "pipe2", errno);
  auto arr = Napi::Array::New(info.Env(), 2);
  arr.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  arr.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return arr;
}

// unixListen(path) -> fd: a stream socket listening at path, mode 0600.
Napi::Value UnixListen(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) throw errno_error(info.Env(), "bind", ENAMETOOLONG, path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw errno_error(info.Env(), "socket", errno);
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0 || ::chmod(path.c_str(), 0600) < 0 ||
      ::listen(fd, 4) < 0) {
    int e = errno;
    ::close(fd);
    throw errno_error(info.Env(), "listen", e, path);
  }
  return Napi::Number::New(info.Env(), fd);
}

// acceptConn(listenFd, timeoutMs) -> fd: the one connection the runtime makes to the
// console socket, to read the pty master from (recvFd). It connected and sent before it
// reported the process ready, so the wait is short; a timeout is an error, not a hang.
Napi::Value AcceptConn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int lfd = int_arg(info, 0, "listenFd");
  int timeout = int_arg(info, 1, "timeoutMs");
  int ready = wait_readable(lfd, timeout);
  if (ready < 0) throw errno_error(env, "poll", errno);
  if (ready == 0) throw errno_error(env, "accept", ETIMEDOUT, "console socket");
  int conn = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) throw errno_error(env, "accept4", errno, "console socket");
  ready = wait_readable(conn, timeout);
  if (ready <= 0) {
    int e = ready < 0 ? errno : ETIMEDOUT;
    ::close(conn);
    throw errno_error(env, "recvmsg", e, "console socket");
  }
  return Napi::Number::New(env, conn);
}

// acceptPending(listenFd) -> fd | null: a connection waiting on a listening socket the shim
// serves (its group's, handed over), taken without blocking; null when none waits (any more:
// a peer that gave up before we took it is no connection). The new fd is close-on-exec and
// non-blocking, as net.Socket wants it. The listening socket becomes non-blocking itself, as
// Node's own listen() would make it: a socket we were told is readable may have nothing left
// to take, and a blocking accept would stall the event loop.
Napi::Value AcceptPending(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int lfd = int_arg(info, 0, "listenFd");
  int flags = ::fcntl(lfd, F_GETFL);
  if (flags < 0) throw errno_error(env, "fcntl", errno);
  if (!(flags & O_NONBLOCK) && ::fcntl(lfd, F_SETFL, flags | O_NONBLOCK) < 0) throw errno_error(env, "fcntl", errno);
  for (;;) {
    int conn = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn >= 0) return Napi::Number::New(env, conn);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return env.Null();
    throw errno_error(env, "accept4", errno);
  }
}

// mount(source, target, fstype, flags, data)
Napi::Value Mount(const Napi::CallbackInfo& info) {
  std::string source = string_arg(info, 0, "source");
  std::string target = string_arg(info, 1, "target");
  std::string fstype = string_arg(info, 2, "fstype");
  if (info.Length() < 4 || !info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "flags must be a number");
  auto flags = static_cast<unsigned long>(info[3].As<Napi::Number>().Int64Value());
  std::string data = string_arg(info, 4, "data");
  if (::mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) < 0) {
    throw errno_error(info.Env(), "mount", errno, target);
  }
  return info.Env().Undefined();
}

// umount(target, flags) -> false when nothing was mounted there (EINVAL), true otherwise
Napi::Value Umount(const Napi::CallbackInfo& info) {
  std::string target = string_arg(info, 0, "target");
  int flags = int_arg(info, 1, "flags");
  if (::umount2(target.c_str(), flags) < 0) {
    if (errno == EINVAL || errno == ENOENT) return Napi::Boolean::New(info.Env(), false);
    throw errno_error(info.Env(), "umount2", errno, target);
  }
  return Napi::Boolean::New(info.Env(), true);
}

// pidfdExited(pidfd) -> boolean, without reaping: a pidfd turns readable when its process
// has exited, zombie or not. Waiting this way never takes an exit from whoever reaps it.
Napi::Value PidfdExited(const Napi::CallbackInfo& info) {
  int ready = wait_readable(int_arg(info, 0, "pidfd"), 0);
  if (ready < 0) throw errno_error(info.Env(), "poll", errno);
  return Napi::Boolean::New(info.Env(), ready > 0);
}

}  // namespace

void register_shim(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("unixListen", Napi::Function::New(env, UnixListen, "unixListen"));
  exports.Set("acceptConn", Napi::Function::New(env, AcceptConn, "acceptConn"));
  exports.Set("acceptPending", Napi::Function::New(env, AcceptPending, "acceptPending"));
  exports.Set("mount", Napi::Function::New(env, Mount, "mount"));
  exports.Set("umount", Napi::Function::New(env, Umount, "umount"));
  exports.Set("pidfdExited", Napi::Function::New(env, PidfdExited, "pidfdExited"));
}

}  // namespace tsrun::napi

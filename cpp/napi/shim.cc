// What the shim server needs from the kernel that Node does not offer: pipes whose ends go
// to containers, the console socket (a pty master arrives as SCM_RIGHTS), rootfs mounts,
// window sizes, a look at a pidfd that does not reap, and eventfds watched off the JS
// thread (cgroup v1 OOM notifications).
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "errors.h"

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

// recvFd(listenFd, timeoutMs) -> { fd, name }: accepts one connection and takes the one fd
// it sends with the one message it sends (the --console-socket protocol of runc). The
// sender has sent before the runtime reported the container ready, so the wait is short.
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int lfd = int_arg(info, 0, "listenFd");
  int timeout = int_arg(info, 1, "timeoutMs");
  struct pollfd p = {lfd, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, timeout);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) throw errno_error(env, "poll", errno);
  if (ready == 0) throw errno_error(env, "accept", ETIMEDOUT, "console socket");
  int conn = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) throw errno_error(env, "accept4", errno, "console socket");
  p = {conn, POLLIN, 0};
  do {
    ready = ::poll(&p, 1, timeout);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    int e = ready < 0 ? errno : ETIMEDOUT;
    ::close(conn);
    throw errno_error(env, "recvmsg", e, "console socket");
  }
  char name[4096];
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {name, sizeof(name) - 1};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  int e = errno;
  ::close(conn);
  if (n < 0) throw errno_error(env, "recvmsg", e, "console socket");
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if ((msg.msg_flags & MSG_CTRUNC) || c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof(int))) {
    // A truncated control message may still have installed fds: close what arrived.
    for (; c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
          int stray;
          std::memcpy(&stray, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          ::close(stray);
        }
      }
    }
    throw errno_error(env, "recvmsg", EBADMSG, "console socket: expected exactly one file descriptor");
  }
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  name[n] = '\0';
  auto out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("name", Napi::String::New(env, std::string(name, static_cast<size_t>(n))));
  return out;
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

Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  struct winsize ws{};
  ws.ws_row = static_cast<unsigned short>(int_arg(info, 1, "rows"));
  ws.ws_col = static_cast<unsigned short>(int_arg(info, 2, "cols"));
  if (::ioctl(int_arg(info, 0, "fd"), TIOCSWINSZ, &ws) < 0) throw errno_error(info.Env(), "ioctl(TIOCSWINSZ)", errno);
  return info.Env().Undefined();
}

// pidfdExited(pidfd) -> boolean, without reaping: a pidfd turns readable when its process
// has exited, zombie or not. Waiting this way never takes an exit from whoever reaps it.
Napi::Value PidfdExited(const Napi::CallbackInfo& info) {
  struct pollfd p = {int_arg(info, 0, "pidfd"), POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, 0);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) throw errno_error(info.Env(), "poll", errno);
  return Napi::Boolean::New(info.Env(), ready > 0);
}

Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw errno_error(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

// Eventfds watched by one epoll thread; each time one fires, its counter is read there and
// handed to its JS callback (-1 when it can no longer be read). Watching does not keep
// Node alive: the owner of the eventfd decides how long the process lives.
class EventfdWatcher {
 public:
  explicit EventfdWatcher(Napi::Env env) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_, &ev);
    tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                          "tsrun-eventfds", 0, 1);
    tsfn_.Unref(env);
    thread_ = std::thread([this] { run(); });
  }

  ~EventfdWatcher() {
    stopping_ = true;
    uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
    tsfn_.Release();
    ::close(epfd_);
    ::close(wake_);
  }

  void watch(Napi::Env env, int fd, Napi::Function cb) {
    if (callbacks_.count(fd)) throw Napi::TypeError::New(env, "eventfd is already watched");
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw errno_error(env, "epoll_ctl", errno);
    callbacks_.emplace(fd, Napi::Persistent(cb));
  }

  // The caller closes the fd after this; a delivery already queued finds no callback.
  void unwatch(int fd) {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    callbacks_.erase(fd);
  }

 private:
  struct Fired {
    int fd;
    int64_t count;
  };

  void run() {
    std::vector<struct epoll_event> events(64);
    while (!stopping_) {
      int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), -1);
      for (int i = 0; i < n; i++) {
        int fd = events[i].data.fd;
        if (fd == wake_) continue;
        uint64_t count = 0;
        ssize_t r = ::read(fd, &count, sizeof(count));
        if (r < 0 && errno == EAGAIN) continue;
        int64_t value = r == static_cast<ssize_t>(sizeof(count)) ? static_cast<int64_t>(count) : -1;
        if (value < 0) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
        auto* boxed = new Fired{fd, value};
        if (tsfn_.BlockingCall(boxed, [this](Napi::Env env, Napi::Function, Fired* f) {
              deliver(env, *f);
              delete f;
            }) != napi_ok) {
          delete boxed;
        }
      }
    }
  }

  void deliver(Napi::Env env, const Fired& f) {
    auto it = callbacks_.find(f.fd);
    if (it == callbacks_.end()) return;
    Napi::Function cb = it->second.Value();
    if (f.count < 0) callbacks_.erase(it);
    cb.Call({Napi::Number::New(env, static_cast<double>(f.count))});
  }

  int epfd_ = -1;
  int wake_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  Napi::ThreadSafeFunction tsfn_;
  std::map<int, Napi::FunctionReference> callbacks_;  // JS thread only
};

// The exits watcher holds the environment's instance-data slot, so this one is kept here
// and torn down with the environment. The shim runs a single environment (no workers).
EventfdWatcher* watcher_instance = nullptr;

EventfdWatcher* eventfd_watcher(Napi::Env env) {
  if (!watcher_instance) {
    watcher_instance = new EventfdWatcher(env);
    env.AddCleanupHook([] {
      delete watcher_instance;
      watcher_instance = nullptr;
    });
  }
  return watcher_instance;
}

Napi::Value WatchEventfd(const Napi::CallbackInfo& info) {
  int fd = int_arg(info, 0, "fd");
  if (info.Length() < 2 || !info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), "callback must be a function");
  eventfd_watcher(info.Env())->watch(info.Env(), fd, info[1].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value UnwatchEventfd(const Napi::CallbackInfo& info) {
  eventfd_watcher(info.Env())->unwatch(int_arg(info, 0, "fd"));
  return info.Env().Undefined();
}

}  // namespace

void register_shim(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("unixListen", Napi::Function::New(env, UnixListen, "unixListen"));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd, "recvFd"));
  exports.Set("mount", Napi::Function::New(env, Mount, "mount"));
  exports.Set("umount", Napi::Function::New(env, Umount, "umount"));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize, "setWinsize"));
  exports.Set("pidfdExited", Napi::Function::New(env, PidfdExited, "pidfdExited"));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd, "eventfd"));
  exports.Set("watchEventfd", Napi::Function::New(env, WatchEventfd, "watchEventfd"));
  exports.Set("unwatchEventfd", Napi::Function::New(env, UnwatchEventfd, "unwatchEventfd"));
}

}  // namespace tsrun::napi

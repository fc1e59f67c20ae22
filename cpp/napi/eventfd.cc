// eventfds for cgroup v1 notifications (memory.oom_control through cgroup.event_control).
//
// eventfd() makes one; watchEventfd(fd, cb) calls cb(count) each time it is signalled, from
// a thread of its own that polls the eventfd and a private stop eventfd, so stopping never
// waits on the kernel. The returned function stops the thread; until then the watch keeps
// the event loop alive (a CLI `events` stream lives exactly that long).
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <thread>

#include "errors.h"

namespace tsrun::napi {
namespace {

Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  int fd = ::eventfd(0, EFD_CLOEXEC);
  if (fd < 0) throw errno_error(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

struct Watch {
  int fd = -1;
  int stop_fd = -1;
  Napi::ThreadSafeFunction tsfn;
  std::thread thread;
  bool stopped = false;
};

// count > 0: signalled that many times; count < 0: -errno, and the watch has ended.
void deliver(Napi::Env env, Napi::Function cb, int64_t* count) {
  cb.Call({Napi::Number::New(env, static_cast<double>(*count))});
  delete count;
}

void run(Watch* w) {
  for (;;) {
    struct pollfd p[2] = {{w->fd, POLLIN, 0}, {w->stop_fd, POLLIN, 0}};
    int n = ::poll(p, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      w->tsfn.BlockingCall(new int64_t(-errno), deliver);
      return;
    }
    if (p[1].revents) return;
    if (p[0].revents & (POLLERR | POLLNVAL)) {
      w->tsfn.BlockingCall(new int64_t(-EBADF), deliver);
      return;
    }
    uint64_t v = 0;
    ssize_t r = ::read(w->fd, &v, sizeof(v));
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      w->tsfn.BlockingCall(new int64_t(-errno), deliver);
      return;
    }
    w->tsfn.BlockingCall(new int64_t(static_cast<int64_t>(v)), deliver);
  }
}

Napi::Value WatchEventfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = int_arg(info, 0, "fd");
  if (info.Length() < 2 || !info[1].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  auto w = std::make_shared<Watch>();
  w->fd = fd;
  w->stop_fd = ::eventfd(0, EFD_CLOEXEC);
  if (w->stop_fd < 0) throw errno_error(env, "eventfd", errno);
  w->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "tsrun-eventfd", 0, 1);
  w->thread = std::thread(run, w.get());
  return Napi::Function::New(env, [w](const Napi::CallbackInfo& i) -> Napi::Value {
    if (!w->stopped) {
      w->stopped = true;
      uint64_t one = 1;
      ssize_t r = ::write(w->stop_fd, &one, sizeof(one));
      (void)r;
      w->thread.join();
      ::close(w->stop_fd);
      w->tsfn.Release();
    }
    return i.Env().Undefined();
  }, "stopWatch");
}

}  // namespace

void register_eventfd(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfd", Napi::Function::New(env, Eventfd, "eventfd"));
  exports.Set("watchEventfd", Napi::Function::New(env, WatchEventfd, "watchEventfd"));
}

}  // namespace tsrun::napi

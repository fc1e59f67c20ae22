// Process exits through pidfds.
//
// waitPidfd(pidfd) resolves when the process exits. One thread per Node environment waits
// on an epoll set of all watched pidfds and hands results to the JS thread; no thread per
// child, and no waitpid(-1): we reap only the process a pidfd names, so libuv's own child
// reaping and ours never take each other's exits. A process that is not our child (a
// created container's init after `tsrun create` exited) is reported without being reaped.
//
// whenReadable(fd) resolves once fd is readable or hung up, from the same thread: the sync
// socket with tsrun-init is read that way (then with a plain read), since net.Socket costs a
// CLI command more to load than the whole exchange takes; so is the shim host's socket,
// whose hand-overs carry fds net.Socket cannot receive; and so are the shim's listening
// sockets, cgroup v1 OOM eventfds and start's exec fifo, none of which then needs a thread
// of its own or of libuv's pool. cancelWatch(fd) resolves a watch early, before its fd is
// closed.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "../sys/syscalls.h"
#include "errors.h"

namespace tsrun::napi {
namespace {

struct Exit {
  int pidfd;
  bool reaped;  // false: not our child, only its exit was seen
  int pid;
  int code;    // exit status when it exited
  int signal;  // terminating signal when killed, else 0
};

enum class Collected { Exited, Running, Failed };

// Reaps (or, for a non-child, just observes) the exit of the process behind pidfd.
// Failed leaves errno set.
Collected collect(int pidfd, bool block, Exit* out) {
  siginfo_t si{};
  int flags = WEXITED | (block ? 0 : WNOHANG);
  int rc;
  do {
    rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, flags);
  } while (rc < 0 && errno == EINTR);
  *out = Exit{pidfd, true, 0, 0, 0};
  if (rc < 0) {
    if (errno != ECHILD) return Collected::Failed;
    // Not ours to reap: a readable pidfd still means the process is gone.
    struct pollfd p = {pidfd, POLLIN, 0};
    int ready;
    do {
      ready = ::poll(&p, 1, block ? -1 : 0);
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) return Collected::Failed;
    if (ready == 0) return Collected::Running;
    out->reaped = false;
    return Collected::Exited;
  }
  if (si.si_pid == 0) return Collected::Running;
  out->pid = si.si_pid;
  if (si.si_code == CLD_EXITED) {
    out->code = si.si_status;
  } else {
    out->signal = si.si_status;
  }
  return Collected::Exited;
}

Napi::Object to_js(Napi::Env env, const Exit& e) {
  auto o = Napi::Object::New(env);
  o.Set("reaped", Napi::Boolean::New(env, e.reaped));
  o.Set("pid", Napi::Number::New(env, e.pid));
  o.Set("code", Napi::Number::New(env, e.code));
  o.Set("signal", Napi::Number::New(env, e.signal));
  return o;
}

// epoll data: the fd in the low half; above it whether the watch is for readability, and the
// watch's generation, so that an event already on its way for a cancelled watch does not
// settle a later watch of the same fd number.
constexpr uint64_t kReadableTag = 1ull << 32;
constexpr int kGenShift = 33;

struct Event {
  bool readable;
  uint32_t gen;
  Exit exit;
};

struct Pending {
  Napi::Promise::Deferred deferred;
  uint32_t gen;
};

class Watcher {
 public:
  explicit Watcher(Napi::Env env) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(wake_);
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_, &ev);
    tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                          "tsrun-exits", 0, 1);
    tsfn_.Unref(env);
    thread_ = std::thread([this] { run(); });
  }

  ~Watcher() {
    stopping_ = true;
    uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
    tsfn_.Release();
    ::close(epfd_);
    ::close(wake_);
  }

  Napi::Value watch(Napi::Env env, int fd, bool readable) {
    auto deferred = Napi::Promise::Deferred::New(env);
    if (pending_.count(fd)) throw Napi::TypeError::New(env, "fd is already watched");
    struct epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT;
    uint32_t gen = next_gen_++ & 0x7fffffffu;
    ev.data.u64 = static_cast<uint32_t>(fd) | (readable ? kReadableTag : 0) | (uint64_t(gen) << kGenShift);
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw errno_error(env, "epoll_ctl", errno);
    pending_.emplace(fd, Pending{deferred, gen});
    // A watched exit keeps Node alive, as a child process handle does.
    if (pending_.size() == 1) tsfn_.Ref(env);
    return deferred.Promise();
  }

  // Stops watching fd (before it is closed): its promise resolves with undefined.
  void cancel(Napi::Env env, int fd) {
    auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    auto deferred = it->second.deferred;
    pending_.erase(it);
    if (pending_.empty()) tsfn_.Unref(env);
    deferred.Resolve(env.Undefined());
  }

 private:
  void run() {
    std::vector<struct epoll_event> events(64);
    while (!stopping_) {
      int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), -1);
      for (int i = 0; i < n; i++) {
        uint64_t data = events[i].data.u64;
        int fd = static_cast<int>(data & 0xffffffffu);
        if (fd == wake_) continue;
        uint32_t gen = static_cast<uint32_t>(data >> kGenShift);
        // One-shot watches are disarmed now; deliver() removes them on the JS thread, where
        // cancel() and the next watch of the fd number run too.
        if (data & kReadableTag) {
          post(new Event{true, gen, Exit{fd, false, 0, 0, 0}});
          continue;
        }
        Exit e;
        Collected c = collect(fd, false, &e);
        if (c == Collected::Failed) e = Exit{fd, false, 0, 0, 0};  // EBADF etc.: stop watching
        if (c == Collected::Running) {
          struct epoll_event ev{};
          ev.events = EPOLLIN | EPOLLONESHOT;
          ev.data.u64 = data;
          ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
          continue;
        }
        post(new Event{false, gen, e});
      }
    }
  }

  void post(Event* boxed) {
    if (tsfn_.BlockingCall(boxed, [this](Napi::Env env, Napi::Function, Event* x) {
          deliver(env, *x);
          delete x;
        }) != napi_ok) {
      delete boxed;
    }
  }

  void deliver(Napi::Env env, const Event& e) {
    auto it = pending_.find(e.exit.pidfd);
    if (it == pending_.end() || it->second.gen != e.gen) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, e.exit.pidfd, nullptr);
    auto deferred = it->second.deferred;
    pending_.erase(it);
    if (pending_.empty()) tsfn_.Unref(env);
    deferred.Resolve(e.readable ? env.Undefined() : to_js(env, e.exit));
  }

  int epfd_ = -1;
  int wake_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  Napi::ThreadSafeFunction tsfn_;
  std::map<int, Pending> pending_;  // JS thread only
  uint32_t next_gen_ = 0;            // JS thread only
};

Watcher* watcher(Napi::Env env) {
  auto* w = env.GetInstanceData<Watcher>();
  if (!w) {
    w = new Watcher(env);
    env.SetInstanceData(w);
  }
  return w;
}

Napi::Value WaitPidfd(const Napi::CallbackInfo& info) {
  return watcher(info.Env())->watch(info.Env(), int_arg(info, 0, "pidfd"), false);
}

Napi::Value WhenReadable(const Napi::CallbackInfo& info) {
  return watcher(info.Env())->watch(info.Env(), int_arg(info, 0, "fd"), true);
}

Napi::Value CancelWatch(const Napi::CallbackInfo& info) {
  watcher(info.Env())->cancel(info.Env(), int_arg(info, 0, "fd"));
  return info.Env().Undefined();
}

// reapPidfd(pidfd, block) -> exit | null (null: still running)
Napi::Value ReapPidfd(const Napi::CallbackInfo& info) {
  int pidfd = int_arg(info, 0, "pidfd");
  bool block = info.Length() > 1 && info[1].ToBoolean();
  Exit e;
  switch (collect(pidfd, block, &e)) {
    case Collected::Exited: return to_js(info.Env(), e);
    case Collected::Running: return info.Env().Null();
    case Collected::Failed: break;
  }
  throw errno_error(info.Env(), "waitid", errno);
}

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int fd = sys::pidfd_open(int_arg(info, 0, "pid"), 0);
  if (fd < 0) throw errno_error(info.Env(), "pidfd_open", errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  if (sys::pidfd_send_signal(int_arg(info, 0, "pidfd"), int_arg(info, 1, "signal")) < 0) {
    throw errno_error(info.Env(), "pidfd_send_signal", errno);
  }
  return info.Env().Undefined();
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  bool on = info.Length() > 0 && info[0].ToBoolean();
  if (::prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0) {
    throw errno_error(info.Env(), "prctl(PR_SET_CHILD_SUBREAPER)", errno);
  }
  return info.Env().Undefined();
}

}  // namespace

void register_exits(Napi::Env env, Napi::Object exports) {
  exports.Set("waitPidfd", Napi::Function::New(env, WaitPidfd, "waitPidfd"));
  exports.Set("whenReadable", Napi::Function::New(env, WhenReadable, "whenReadable"));
  exports.Set("cancelWatch", Napi::Function::New(env, CancelWatch, "cancelWatch"));
  exports.Set("reapPidfd", Napi::Function::New(env, ReapPidfd, "reapPidfd"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
}

}  // namespace tsrun::napi

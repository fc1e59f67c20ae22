#include "reaper.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace tsrun::keeper {
namespace {

// Exits nobody claimed: an orphan's, or one a brain was about to claim when it died (the
// next brain claims it again from its records). Enough for a burst of orphans; the oldest go.
constexpr size_t kMaxUnclaimed = 1024;

int64_t now_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

bool Reaper::start(Loop* loop) {
  loop_ = loop;
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return false;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return false;
  sigfd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd_ < 0) return false;
  if (!loop_->add(sigfd_, EPOLLIN, [this](uint32_t) { reap(); })) return false;
  // Children that exited before we watched (a keeper started by hand) are reaped too.
  reap();
  return true;
}

void Reaper::watch(pid_t pid, OnExit fn) {
  ExitStatus e;
  if (take(pid, &e)) {
    fn(e);
    return;
  }
  watchers_[pid] = std::move(fn);
}

bool Reaper::take(pid_t pid, ExitStatus* out) {
  auto it = unclaimed_.find(pid);
  if (it == unclaimed_.end()) return false;
  *out = it->second.first;
  unclaimed_.erase(it);
  return true;
}

void Reaper::reap() {
  struct signalfd_siginfo info;
  while (::read(sigfd_, &info, sizeof(info)) == sizeof(info)) {
  }
  for (;;) {
    siginfo_t si{};
    if (::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) < 0 || si.si_pid == 0) return;
    ExitStatus e;
    e.pid = si.si_pid;
    e.at_ns = now_ns();
    if (si.si_code == CLD_EXITED) {
      e.code = si.si_status;
    } else {
      e.signal = si.si_status;
    }
    auto w = watchers_.find(e.pid);
    if (w != watchers_.end()) {
      OnExit fn = std::move(w->second);
      watchers_.erase(w);
      fn(e);
      continue;
    }
    // A pid is only reused once reaped, so an older exit of the same pid is an orphan's
    // from long ago: the new one replaces it.
    uint64_t serial = ++serial_;
    unclaimed_[e.pid] = {e, serial};
    unclaimed_order_.emplace_back(e.pid, serial);
    while (unclaimed_order_.size() > kMaxUnclaimed) {
      auto [pid, seq] = unclaimed_order_.front();
      unclaimed_order_.pop_front();
      auto old = unclaimed_.find(pid);
      if (old != unclaimed_.end() && old->second.second == seq) unclaimed_.erase(old);
    }
  }
}

}  // namespace tsrun::keeper

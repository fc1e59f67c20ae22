// The keeper's children: every process of the group's containers (tsrun-init's bootstraps,
// and their CLONE_PARENT children, the inits and exec'd processes), whatever the keeper
// starts itself (logging drivers, the publish binary, a brain), and, as subreaper, the
// orphans of containers without a pid namespace of their own. The keeper has no other
// children, so it reaps with waitid(P_ALL) when SIGCHLD comes (a signalfd in the loop).
//
// An exit is kept by pid until someone claims it: the brain learns a container process's
// pid from tsrun-init a moment after it started, and that process may have exited already
// (containerd's runc shim keeps such early exits too). Unclaimed exits are forgotten once
// there are too many or they are old: those of orphans, which nobody claims.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>

#include "loop.h"

namespace tsrun::keeper {

struct ExitStatus {
  pid_t pid = 0;
  int code = 0;    // the exit status, 0 when killed
  int signal = 0;  // the killing signal, 0 when it exited
  int64_t at_ns = 0;
};

class Reaper {
 public:
  using OnExit = std::function<void(const ExitStatus&)>;

  /** Becomes the subreaper and watches SIGCHLD; false (errno set) when that fails. */
  bool start(Loop* loop);

  /** pid's exit goes to fn (once); when it has happened already, fn runs now. */
  void watch(pid_t pid, OnExit fn);
  /** Stops watching pid (its exit will be kept unclaimed). */
  void unwatch(pid_t pid) { watchers_.erase(pid); }
  /** The exit of pid if the keeper reaped it and nobody took it yet; the exit goes with it. */
  bool take(pid_t pid, ExitStatus* out);

 private:
  void reap();

  Loop* loop_ = nullptr;
  int sigfd_ = -1;
  std::map<pid_t, OnExit> watchers_;
  // Each unclaimed exit with the number it came in as: an entry of the order whose number no
  // longer matches was taken (or replaced) meanwhile.
  std::map<pid_t, std::pair<ExitStatus, uint64_t>> unclaimed_;
  std::deque<std::pair<pid_t, uint64_t>> unclaimed_order_;
  uint64_t serial_ = 0;
};

}  // namespace tsrun::keeper

// The processes the brain spawns through the keeper (tsrun-init's bootstraps) and claims
// (their CLONE_PARENT children: container inits and exec'd processes), and their exits.
//
// An exit is reported once the process's output is drained (io.h), and again to every brain
// that attaches until one acknowledges it (wire Commit): a brain that dies between the exit
// and publishing its event leaves the next brain to do it.
#pragma once
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "io.h"
#include "reaper.h"
#include "wire.h"

namespace tsrun::keeper {

class Processes {
 public:
  /** An exit ready to report (drained). */
  using OnExit = std::function<void(const ExitStatus&)>;

  Processes(Reaper* reaper, Io* io, OnExit on_exit) : reaper_(reaper), io_(io), on_exit_(std::move(on_exit)) {}

  /** Starts tsrun-init as Spawn says, with the message's fds (closed here); the reply. */
  wire::Reply spawn(const wire::Spawn& req, std::vector<int>* fds, std::vector<int>* reply_fds);
  /** Takes pid as a process of the brain's: the reply brings a pidfd, or says it exited. */
  wire::Reply claim(const wire::Claim& req, std::vector<int>* reply_fds);
  /** The brain has handled pid's exit. */
  void ack(uint32_t pid);
  /** Every exit reported and not acknowledged, in the order they happened. */
  std::vector<ExitStatus> unacked() const;
  bool tracking(pid_t pid) const { return tracked_.count(pid) > 0; }

 private:
  void track(pid_t pid, uint32_t io);
  void exited(pid_t pid, const ExitStatus& e);

  Reaper* reaper_;
  Io* io_;
  OnExit on_exit_;
  // pid -> io whose output its exit waits for (0: none)
  std::map<pid_t, uint32_t> tracked_;
  // reported, not yet acknowledged: by the order they happened
  std::map<uint64_t, ExitStatus> unacked_;
  std::map<pid_t, uint64_t> unacked_seq_;
  uint64_t seq_ = 0;
};

}  // namespace tsrun::keeper

#include "processes.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../sys/c_strings.h"
#include "../sys/spawn.h"
#include "../sys/syscalls.h"

namespace tsrun::keeper {

wire::Reply Processes::spawn(const wire::Spawn& req, std::vector<int>* fds, std::vector<int>* reply_fds) {
  wire::Reply r;
  r.call = req.call;
  std::vector<int> process_fds;
  bool ok = !fds->empty() && !req.argv.empty();
  for (int32_t slot : req.fds) {
    if (slot >= 0 && static_cast<size_t>(slot) >= fds->size()) ok = false;
    process_fds.push_back(slot < 0 ? -1 : (*fds)[static_cast<size_t>(slot < 0 ? 0 : slot)]);
  }
  if (!ok) {
    r.err = EINVAL;
    r.message = "spawn: an executable, argv and fds that were sent";
  } else {
    auto argv = sys::c_strings(req.argv);
    auto envp = sys::c_strings(req.env);
    sys::Spawned child;
    const char* failed = "";
    int err = 0;
    if (req.cgroup.empty()) {
      err = sys::spawn_executable((*fds)[0], argv.data(), envp.data(), process_fds, &child, &failed);
    } else {
      int dir = ::open(req.cgroup.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dir < 0) {
        err = errno;
        failed = "open the cgroup";
      } else {
        err = sys::spawn_executable_in_cgroup(dir, (*fds)[0], argv.data(), envp.data(), process_fds, &child, &failed);
        ::close(dir);
      }
    }
    if (err != 0) {
      r.err = err;
      r.message = std::string(failed) + ": " + std::strerror(err);
    } else {
      r.pid = static_cast<uint32_t>(child.pid);
      r.fds = {0};
      reply_fds->push_back(child.pidfd);
      track(child.pid, 0);
    }
  }
  for (int fd : *fds) ::close(fd);
  fds->clear();
  return r;
}

wire::Reply Processes::claim(const wire::Claim& req, std::vector<int>* reply_fds) {
  wire::Reply r;
  r.call = req.call;
  pid_t pid = static_cast<pid_t>(req.pid);
  ExitStatus e;
  if (reaper_->take(pid, &e)) {
    // Gone before the brain knew its pid: its exit is reported as any other's.
    r.exited = true;
    tracked_[pid] = req.io;
    exited(pid, e);
    return r;
  }
  // Not reaped, so the pid is still this child's (alive or a zombie): its pidfd is right.
  int pidfd = sys::pidfd_open(pid, 0);
  bool known = tracked_.count(pid) > 0;
  if (pidfd < 0 && known && errno == ESRCH) {
    // A new brain claiming what an earlier one had: reaped, so its exit is reported (or
    // will be, once its output is drained), to this brain too.
    r.exited = true;
    return r;
  }
  if (pidfd < 0) {
    r.err = errno;
    r.message = "pidfd_open " + std::to_string(pid) + ": " + std::strerror(errno);
    return r;
  }
  r.fds = {0};
  reply_fds->push_back(pidfd);
  if (!known) track(pid, req.io);
  return r;
}

void Processes::track(pid_t pid, uint32_t io) {
  tracked_[pid] = io;
  reaper_->watch(pid, [this, pid](const ExitStatus& e) { exited(pid, e); });
}

void Processes::exited(pid_t pid, const ExitStatus& e) {
  auto it = tracked_.find(pid);
  uint32_t io = it == tracked_.end() ? 0 : it->second;
  auto report = [this, pid, e] {
    if (!tracked_.count(pid)) return;  // acknowledged meanwhile (the brain killed it in a rollback)
    uint64_t seq = ++seq_;
    unacked_[seq] = e;
    unacked_seq_[pid] = seq;
    on_exit_(e);
  };
  if (io == 0) {
    report();
  } else {
    io_->drained(io, report);
  }
}

void Processes::ack(uint32_t pid) {
  tracked_.erase(static_cast<pid_t>(pid));
  auto it = unacked_seq_.find(static_cast<pid_t>(pid));
  if (it == unacked_seq_.end()) return;
  unacked_.erase(it->second);
  unacked_seq_.erase(it);
}

std::vector<ExitStatus> Processes::unacked() const {
  std::vector<ExitStatus> out;
  for (const auto& [seq, e] : unacked_) out.push_back(e);
  return out;
}

}  // namespace tsrun::keeper

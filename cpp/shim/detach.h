// Starting a long-lived process that the launcher does not wait for: a group's keeper, a
// brain, or a spare brain waiting to be adopted.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace tsrun::shim {

struct Detached {
  std::vector<std::string> argv;
  /** becomes fd 3 (a listening socket) */
  int listen_fd = -1;
  /** becomes fd 4 when given (a keeper's connection to its brain) */
  int extra_fd = -1;
  /** stderr: a path relative to the cwd opened write-only non-blocking ("" = none) */
  std::string log_path;
  /** stderr, when no log_path: this fd (-1 = /dev/null) */
  int log_fd = -1;
  /** the new process's cwd, "" = ours */
  std::string cwd;
  /** written to /proc/self/oom_score_adj, "" = inherited */
  std::string oom_score;
};

/** Forks the process in a session of its own, stdin and stdout on /dev/null, no fd but
 *  0-3 (0-4 with extra_fd), and does not wait for it. Its pid, or -1 when fork fails. */
pid_t spawn_detached(const Detached& d);

/** containerd's oom_score_adj + 1 (capped at 1000): under memory pressure a shim goes before
 *  containerd. containerd is the launcher's parent. "" when unreadable. */
std::string server_oom_score();

}  // namespace tsrun::shim

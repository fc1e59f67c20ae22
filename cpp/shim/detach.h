// Starting a long-lived Node process from the launcher, which exits at once: a server for a
// group, or a spare server waiting for one.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace tsrun::shim {

struct Detached {
  std::vector<std::string> argv;
  /** becomes fd 3 (a listening socket) */
  int listen_fd = -1;
  /** becomes fd 4 when given: the namespace's host socket (host.h), also listening */
  int host_fd = -1;
  /** stderr: a path relative to the cwd opened write-only non-blocking, "" = /dev/null */
  std::string log_path;
  /** the new process's cwd, "" = ours */
  std::string cwd;
  /** written to /proc/self/oom_score_adj, "" = inherited */
  std::string oom_score;
};

/** Forks the process in a session of its own, stdin and stdout on /dev/null, no fd but
 *  0-3 (0-4 with a host socket), and does not wait for it. False when fork fails. */
bool spawn_detached(const Detached& d);

/** containerd's oom_score_adj + 1 (capped at 1000): under memory pressure a shim goes before
 *  containerd. containerd is the launcher's parent. "" when unreadable. */
std::string server_oom_score();

}  // namespace tsrun::shim

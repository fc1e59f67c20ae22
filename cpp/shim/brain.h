// The brain: the Node shim server that serves the Task API for the groups whose keepers
// attach to it (cpp/keeper). By default one brain serves every group of a namespace (of one
// containerd and one tsrun package), so a hundred pods cost one Node heap; it listens on
// <socket dir>/host-<sha256(address, ns, package)>. TSRUN_SHIM_HOST=0 gives each group a
// brain of its own, at <socket dir>/brain-<sha256(group socket, package)>.
//
// A keeper connects there when its group starts and whenever its brain has gone. When
// nobody answers, the one that binds the path first starts the brain: a waiting spare
// (spare.h) takes the socket over, else a new Node process is spawned with it as fd 3.
#pragma once
#include <string>

#include "flags.h"

namespace tsrun::shim {

/** False when TSRUN_SHIM_HOST=0. */
bool shared_brain_enabled();

/** Where the brain for this group listens. */
std::string brain_socket(const Args& args, const std::string& group_socket);

enum class BrainFound { Running, Adopted, Spawned };

struct BrainLaunch {
  /** containerd's oom_score_adj + 1 for a new brain; "" = inherited */
  std::string oom_score;
  /** the new brain's stderr until it takes a group's log; -1 = /dev/null */
  int log_fd = -1;
  /** false: never hand the brain to a spare (TSRUN_SHIM_SPARE=0 also says so) */
  bool spares = true;
};

/** A connection (close-on-exec, blocking) to the brain at path, starting one when none
 *  answers; -1 with *error set when none can be reached or started. */
int connect_brain(const Args& args, const std::string& path, const BrainLaunch& launch, BrainFound* found,
                  std::string* error);

}  // namespace tsrun::shim

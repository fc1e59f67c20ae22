#pragma once
#include <sys/types.h>

#include <vector>

#include "../plan/plan.h"

namespace tsrun::init {

// The sources of a user-namespaced container's plain binds, opened as runc 1.1 opens them:
// by a helper that stays in the runtime's user namespace (with its credentials) and joins
// the container's new mount namespace to open them there, O_PATH, before the binds. A
// source under a directory only the runtime's root may search (0700) is then bound through
// /proc/self/fd, and the mounts the binds copy stay those of the container's mount
// namespace (locked as the kernel locks them for a less privileged user namespace).
class BindSources {
 public:
  // Before the namespaces are entered: forks the helper when the plan has a user namespace
  // and binds without id mappings; otherwise does nothing.
  static BindSources start(const plan::Plan& p, const std::vector<int>& idmapped_trees);
  // Once in the container's mount namespace: the helper opens the sources; an fd per plan op,
  // -1 where there is none (the bind then resolves the source's path itself).
  std::vector<int> collect(const plan::Plan& p);

 private:
  pid_t helper_ = -1;
  int sock_ = -1;
};

}  // namespace tsrun::init

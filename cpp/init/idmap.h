#pragma once
#include <vector>

#include "../plan/plan.h"

namespace tsrun::init {

// For every Bind op with id mappings: a detached clone of its source with MOUNT_ATTR_IDMAP
// set, made while we are still in the host's user namespace (which owns the host mounts).
// The result holds an fd per op, -1 where there is none.
std::vector<int> prepare_idmapped_mounts(const plan::Plan& p);

}  // namespace tsrun::init

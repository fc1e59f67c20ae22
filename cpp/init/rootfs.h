#pragma once
#include <vector>

#include "../plan/plan.h"

namespace tsrun::init {

// Propagation of "/" (only in a new mount namespace) and the rootfs bound on itself.
void prepare_root(const plan::Plan& p, bool new_mount_ns);
// The plan's mount, device and symlink operations, destinations resolved inside the rootfs.
// bind_sources: the sources BindSources opened (bind-sources.h), -1 where none.
void run_rootfs_ops(const plan::Plan& p, const std::vector<int>& idmapped_trees, const std::vector<int>& bind_sources);
// pivot_root, or with --no-pivot move the rootfs over / and chroot; plain chroot when
// there is no mount namespace of our own.
void enter_root(const plan::Plan& p, bool new_mount_ns);
// /dev and / read-only where the config asks.
void finalize_rootfs(const plan::Plan& p);
// readonlyPaths, then maskedPaths.
void apply_path_rules(const plan::Plan& p);

}  // namespace tsrun::init

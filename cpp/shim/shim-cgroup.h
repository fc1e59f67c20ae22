// The runtime options' ShimCgroup: containerd writes the task's options on the stdin of
// `start` (a protobuf Any), and runc's shim moves itself into the cgroup they name. So does
// ours: the group's keeper, the process that stands for the pod, is moved there (the brain,
// shared by many pods, is not). runc's Options name it in field 3, the v1 runtime's
// CreateOptions (what a 1.6 client sends a runtime that is not runc's) in field 9;
// runtimeoptions (CRI's ConfigPath) are read by the brain, not here.
#pragma once
#include <sys/types.h>

#include <string>

namespace tsrun::shim {

/** The ShimCgroup of the options on start's stdin (an Any), or "". */
std::string shim_cgroup_of(const std::string& options);

/** Moves pid into path: every cgroup v1 hierarchy where it exists and the unified tree, or
 *  the v2 tree alone on a pure v2 host. False with *error when it exists nowhere or a move
 *  fails, as runc's shim refuses to start then. */
bool join_cgroup(pid_t pid, const std::string& path, std::string* error);

}  // namespace tsrun::shim

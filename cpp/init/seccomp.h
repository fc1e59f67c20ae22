#pragma once
#include <cstdint>
#include <string>

#include "../plan/plan.h"

namespace tsrun::init {

// Installs a classic BPF seccomp program on this process: prctl(2) when there are no flags
// (what runc does), seccomp(2) otherwise. Returns the listener fd when flags ask for one
// (SECCOMP_FILTER_FLAG_NEW_LISTENER), else -1; fails the step on error.
int load_seccomp_filter(const std::string& bpf, uint32_t flags);

// The plan's filter, if any: loaded, and its listener handed to the parent (which passes
// it to the seccomp agent) and closed here. Call it as late as the filter allows: every
// system call after it is filtered. Exec (tsrun exec) calls the same.
void apply_seccomp(const plan::Plan& p);

}  // namespace tsrun::init

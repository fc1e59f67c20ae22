// The warm spare: a Node brain started ahead of need, idle until whoever must start a brain
// (brain.h) hands it the brain's socket, so no container's path pays a Node start-up.
//
// One spare per containerd (its -address) and tsrun package, listening on
// <socket dir>/spare-<sha256(address, package)>. Adoption is a hand-over (handover.h); the
// spare gives up its spare socket before it answers, so the next spare can start at once.
#pragma once
#include <string>

#include "flags.h"

namespace tsrun::shim {

/** False when TSRUN_SHIM_SPARE=0 (no spare is used or started). */
bool spares_enabled();

std::string spare_socket(const Args& args);

/** Hands the brain socket (its listening fd) to a waiting spare; false when there is none,
 *  or it did not take it (then the caller starts a brain itself). */
bool adopt_spare(const Args& args, const std::string& brain_socket, int listen_fd, int log_fd, const std::string& oom_score);

/** Starts a spare in the background unless one is waiting. */
void ensure_spare(const Args& args);

}  // namespace tsrun::shim

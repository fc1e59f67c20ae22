// The warm spare: a Node shim server started ahead of need, idle until a `start` for a new
// group hands it that group, so the container's critical path pays no Node start-up.
//
// One spare per containerd (its -address) and tsrun package, listening on
// <socket dir>/spare-<sha256(address, package)>. Adoption is a hand-over (handover.h); the
// spare gives up its spare socket before it answers, so the launcher can start the next
// spare at once.
// containerd's contract holds: start prints only the address, and the server outlives it.
#pragma once
#include <string>

#include "flags.h"

namespace tsrun::shim {

/** False when TSRUN_SHIM_SPARE=0 (no spare is used or started). */
bool spares_enabled();

std::string spare_socket(const Args& args);

/** Hands the group (its listening socket) to a waiting spare, with the host socket when
 *  host_fd >= 0; false when there is none, or it did not take the group (then the caller
 *  starts a server itself). */
bool adopt_spare(const Args& args, const std::string& group_socket, int listen_fd, const std::string& host_socket, int host_fd);

/** Starts a spare in the background unless one is waiting. */
void ensure_spare(const Args& args);

}  // namespace tsrun::shim

// The warm spare: a Node shim server started ahead of need, idle until a `start` for a new
// group hands it that group, so the container's critical path pays no Node start-up.
//
// One spare per containerd (its -address) and tsrun package, listening on
// <socket dir>/spare-<sha256(address, package)>. Adoption is one connection: the launcher
// sends, with SCM_RIGHTS, the group's listening socket and the bundle's log fifo, and as
// data what a freshly launched server would have had (its flags, containerd's environment,
// the oom score); then it waits for the spare's one-byte answer. The spare gives up its
// spare socket before it answers, so the launcher can start the next spare at once.
// containerd's contract holds: start prints only the address, and the server outlives it.
#pragma once
#include <string>

#include "flags.h"

namespace tsrun::shim {

/** The first data item of an adoption, so a stray connection is told apart. */
inline constexpr const char* kAdoptMagic = "tsrun-adopt-1";

/** False when TSRUN_SHIM_SPARE=0 (no spare is used or started). */
bool spares_enabled();

std::string spare_socket(const Args& args);

/** Hands the group (its listening socket) to a waiting spare; false when there is none, or
 *  it did not take the group (then the caller starts a server itself). */
bool adopt_spare(const Args& args, const std::string& group_socket, int listen_fd);

/** Starts a spare in the background unless one is waiting. */
void ensure_spare(const Args& args);

}  // namespace tsrun::shim

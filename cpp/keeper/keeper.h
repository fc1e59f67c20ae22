// The keeper: containerd-shim-ts-v2 in its `keep` role, one process per group (a pod).
//
// `start` forks it with the group's listening socket as fd 3, a connection to the brain as
// fd 4, and the bundle's log fifo as stderr. It holds what must outlive a brain: the
// listening socket and containerd's connections, whose frames it relays to the brain and
// whose answers it writes back. It is a single-threaded epoll loop (loop.h), never Node.
#pragma once
#include "../shim/flags.h"

namespace tsrun::keeper {

/** Serves the group until it ends; the exit code. */
int run_keeper(const shim::Args& args);

}  // namespace tsrun::keeper

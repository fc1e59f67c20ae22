// The namespace's host: one shim server process serves every group of a namespace (of one
// containerd and one tsrun package), so ten containers cost one Node heap, not ten. Each
// group keeps its own socket, log and lifecycle, exactly as if it had a server of its own:
// containerd cannot tell. The host listens on <socket dir>/host-<sha256(address, ns,
// package)>; `start` for a new group hands the group to it (handover.h), and when there is
// no host, the server it starts (a spare, or a new process) gets the host socket along with
// the group and becomes the host. The host exits with its last group, giving the socket up
// first. TSRUN_SHIM_HOST=0 in containerd's environment gives each group a process again,
// for isolation: one server's crash then reaches one group.
#pragma once
#include <string>

#include "flags.h"

namespace tsrun::shim {

/** False when TSRUN_SHIM_HOST=0. */
bool hosting_enabled();

std::string host_socket(const Args& args);

}  // namespace tsrun::shim

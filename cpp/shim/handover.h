// Handing a group to a running server: the launcher bound the group's socket, and a waiting
// spare (spare.h) or the namespace's host (host.h) is to serve it. One connection: the
// launcher sends, with SCM_RIGHTS, the group's listening socket, the bundle's log fifo and,
// when the receiver is to become the host too, the host socket; as data, what a freshly
// launched server would have had (its flags, containerd's environment, the oom score). Then
// it waits for a one-byte answer, "1" = the group is the receiver's.
#pragma once
#include <string>

#include "flags.h"

namespace tsrun::shim {

/** The first data item of a hand-over, so a stray connection is told apart. */
inline constexpr const char* kAdoptMagic = "tsrun-adopt-1";

enum class Handed { Taken, Nobody, Refused };

/** Hands the group listening at group_socket (listen_fd) to whatever listens at `to`; with
 *  host_fd >= 0 the receiver also serves the host socket at host_socket. Nobody: nothing
 *  listens there. Refused: the receiver did not take the group in time (the caller then
 *  serves it another way: a receiver that answers late finds the connection shut and gives
 *  the group up). */
Handed hand_over(const std::string& to, const Args& args, const std::string& group_socket, int listen_fd,
                 const std::string& host_socket = "", int host_fd = -1);

}  // namespace tsrun::shim

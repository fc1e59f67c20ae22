// Handing a brain's socket to a waiting spare (spare.h): whoever bound the brain socket (a
// `start`, or a keeper whose brain has gone) lets the spare serve it. One connection: the
// sender sends, with SCM_RIGHTS, the brain's listening socket and a log fd for it; as
// data, what a freshly launched brain would have had (its flags, containerd's environment,
// the oom score). Then it waits for a one-byte answer, "1" = the spare took it.
#pragma once
#include <string>

#include "flags.h"

namespace tsrun::shim {

/** The first data item of a hand-over, so a stray connection is told apart. */
inline constexpr const char* kAdoptMagic = "tsrun-adopt-2";

enum class Handed { Taken, Nobody, Refused };

/** Hands the brain listening at brain_socket (listen_fd) to whatever listens at `to`, with
 *  log_fd (when >= 0) as its stderr and oom_score (when not "") as its oom_score_adj.
 *  Nobody: nothing listens there. Refused: the receiver did not take it in time (the caller
 *  then starts a brain itself: a receiver that answers late finds the connection shut and
 *  gives the socket up). */
Handed hand_over(const std::string& to, const Args& args, const std::string& brain_socket, int listen_fd, int log_fd,
                 const std::string& oom_score);

}  // namespace tsrun::shim

// The CLI server's protocol (src/server): the native `tsrun` client and the warm Node
// server speak it over a SOCK_SEQPACKET unix socket, one message per record, fds passed with
// SCM_RIGHTS on the record they belong to. Little-endian fields; a string is a u32 length
// and its bytes; a list is a u32 count and its items.
//
//   client -> server                           server -> client
//   CALL version umask build cwd argv env      SPAWN seq argv env slots  [exe fd, fds...]
//        fdnums               [fds by fdnums]  WAIT seq pid
//   SPAWNED seq pid|-errno          [pidfd]    UNDO args (a cold `tsrun args` takes the call
//   STATUS seq known code signal                back should the server vanish)
//   SIGNAL signo                               EXIT code
//                                              COLD (run this call in a Node of your own)
//                                              DEFAULT_SIGNAL signo (nobody listens: die of it)
//                                              STALE (another build: start a new server)
#pragma once
#include <cstdint>

namespace tsrun::cli {

constexpr uint32_t kProtocolVersion = 1;

enum class Msg : uint32_t {
  Call = 1,
  Spawned = 2,
  Status = 3,
  Signal = 4,
  Spawn = 101,
  Wait = 102,
  Undo = 103,
  Exit = 104,
  Cold = 105,
  DefaultSignal = 106,
  Stale = 107,
};

// A record no bigger than this (argv and environment); larger calls run cold.
constexpr size_t kMaxMessage = 192 * 1024;

}  // namespace tsrun::cli

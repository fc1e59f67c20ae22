// The sync channel between the parent (Node, through the addon) and tsrun-init.
//
// One SOCK_STREAM socket pair. tsrun-init runs as two processes: the bootstrap process,
// which the parent spawns, and the container's init, which the bootstrap clones with
// CLONE_PARENT so that it is the parent's own child.
//
//   parent                       bootstrap                      init
//   ------                       ---------                      ----
//   spawn bootstrap; cgroups
//   PLAN(len, bytes)  ------->   decode; setns (paths)
//                                [unshare(NEWUSER)
//   write uid/gid maps <-------   USERNS(pid)
//   MAPS_DONE          ------->  ]
//                                unshare (the rest), time offsets
//                                clone(CLONE_PARENT) -------->  (waits on a pipe)
//                   <-------     CHILD_PID(pid); exit(0)  ---->  (pipe closed: go)
//                                                               setsid, mounts
//                                                               [only when there are hooks:
//   prestart and createRuntime hooks <-----------------------  HOOKS
//   HOOKS_DONE(state json) ---------------------------------->  createContainer hooks]
//                                                               pivot_root, console, paths,
//                                                               user, caps
//                   <----------------------------------------  READY; close sync
//   (create returns)                                            wait on exec fifo;
//                                                               startContainer hooks; execve
//
// With a seccomp filter that has SCMP_ACT_NOTIFY rules, the init (or an exec'd process)
// loads it (before the capabilities are dropped without noNewPrivileges, else just before
// READY) and then:
//
//                   <----------------------------------------  SECCOMP_FD(fd in the init)
//   pidfd_getfd the listener; send it and
//   the container process state to the
//   agent at listenerPath (SCM_RIGHTS)
//   SECCOMP_DONE ---------------------------------------------->  close the listener; go on
//
// The parent, not the init, talks to the agent: the init is in the container's mount
// namespace by then, and nothing of the host has to be handed into it.
//
// Any step may instead send ERROR(step, errno, index, detail) and exit. Records from
// tsrun-init are fixed-size so the parent can read them without framing. Messages from the
// parent are a header (kind, length) and a body: the plan, and the answers above.
#pragma once
#include <cstdint>

namespace tsrun::sync {

enum class RecordKind : uint32_t {
  ChildPid = 1,  // value: pid of the container's init, in the parent's pid namespace
  Ready = 2,     // set-up done; init now waits on the exec fifo
  Error = 3,     // step, err, index, detail
  Userns = 4,    // value: pid of the bootstrap, whose uid_map and gid_map the parent writes
  Hooks = 5,     // the parent runs prestart and createRuntime hooks, then answers
  SeccompFd = 6, // value: the seccomp listener fd, as numbered in the process; answered
};

// Messages from the parent: a MessageHeader, then `length` bytes.
enum class MessageKind : uint32_t {
  Plan = 0x4e4c5054,  // "TPLN": the plan's wire bytes
  MapsDone = 1,       // empty
  HooksDone = 2,      // the container state as JSON, for hooks run inside the container
  SeccompDone = 3,    // empty: the agent has the seccomp listener
};

struct MessageHeader {
  uint32_t kind;
  uint32_t length;
};

constexpr uint32_t kPlanMagic = static_cast<uint32_t>(0x4e4c5054);  // MessageKind::Plan

struct Record {
  uint32_t kind;
  uint32_t step;
  int32_t err;
  int32_t index;  // index into the plan list the step works on, -1 when none
  int64_t value;
  char detail[488];
};
static_assert(sizeof(Record) == 512, "the record size is part of the protocol");

}  // namespace tsrun::sync

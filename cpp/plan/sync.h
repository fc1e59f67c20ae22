// The sync channel between the parent (Node, through the addon) and tsrun-init. The kinds
// and the fields of its records and messages are in sync.def, for both languages.
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
#include "wire.h"

namespace tsrun::sync {

using namespace tsrun::wire;

// The kinds and the fixed records, expanded from sync.def.
#define WIRE_ENUM(name, type) enum class name : type {
#define WIRE_VALUE(e, id, ts, code) id = code,
#define WIRE_ENUM_END(name) };
#define WIRE_FIXED(name) struct name {
#define WIRE_FIXED_FIELD(rec, type, name) storage_t<type> name;
#define WIRE_FIXED_TEXT(rec, name, size) char name[size];
#define WIRE_FIXED_END(name) };
#include "sync.def"
#include "wire_end.h"

// TypeScript reads the records at the offsets the description gives, one field after
// another: a struct with padding anywhere would not be what it reads.
#define WIRE_ENUM(name, type)
#define WIRE_VALUE(e, id, ts, code)
#define WIRE_ENUM_END(name)
#define WIRE_FIXED(name)              \
  constexpr bool unpadded_##name() { \
    size_t at = 0;                    \
    bool ok = true;
#define WIRE_FIXED_FIELD(rec, type, name) \
  ok = ok && offsetof(rec, name) == at;   \
  at += sizeof(storage_t<type>);
#define WIRE_FIXED_TEXT(rec, name, size) \
  ok = ok && offsetof(rec, name) == at;  \
  at += size;
#define WIRE_FIXED_END(name)         \
  return ok && sizeof(name) == at;   \
  }                                  \
  static_assert(unpadded_##name(), #name " is not laid out as sync.def describes it");
#include "sync.def"
#include "wire_end.h"

static_assert(sizeof(Record) == 512, "the record size is part of the protocol");

constexpr uint32_t kPlanMagic = static_cast<uint32_t>(MessageKind::Plan);

}  // namespace tsrun::sync

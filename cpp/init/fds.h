#pragma once

namespace tsrun::init {

// Every fd from `first` up is closed (or, with cloexec, marked close-on-exec). close_range
// first; when a seccomp filter already loaded refuses it (EPERM, ENOSYS: a filter's usual
// errnos, as from profiles traced under runc 1.1, which never calls it), the fds listed in
// /proc/self/fd one by one with fcntl/close, as runc 1.1's init does. -1 with errno when
// neither way works.
int close_fds_from(unsigned first, bool cloexec);

// True for the errnos a seccomp filter answers with by default: the call was refused by
// policy, not by the kernel, so the caller takes the way runc 1.1's init would.
inline bool refused_by_filter(int err) { return err == 1 /* EPERM */ || err == 38 /* ENOSYS */; }

}  // namespace tsrun::init

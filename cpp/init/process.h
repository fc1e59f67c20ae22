#pragma once
#include <string>
#include <vector>

#include "../plan/plan.h"

namespace tsrun::init {

// A session keyring of the container's own ("_ses.<id>"), searchable by its user.
void join_session_keyring(const plan::Plan& p, bool new_user_ns);
// A pty from the container's devpts: master sent to the console socket, slave on
// stdin/stdout/stderr (and, for a new container, bound on /dev/console), and made the
// controlling terminal.
void setup_console(const plan::Plan& p, bool mount_console);
void set_names(const plan::Plan& p);
// /proc/self/setgroups says "deny" (a user namespace made that way, or joined so).
bool setgroups_denied();
void set_rlimits(const plan::Process& proc);
// Closes stray fds at exec, then cwd, bounding set, user and groups, HOME, capabilities.
void finalize_identity(const plan::Plan& p, std::vector<std::string>* env);
// The path execve will run, resolved as runc does (PATH of the container's env); fails
// the step when there is none, so that `create` reports it.
std::string lookup_executable(const plan::Process& proc, const std::vector<std::string>& env);
// Blocks until `tsrun start` opens the exec fifo; returns the fifo, still open, so that a
// failing startContainer hook can tell `start` (tsrun-init holds it until the execve).
int wait_for_start(const plan::Plan& p);
[[noreturn]] void exec_process(const std::string& path, const plan::Process& proc,
                               const std::vector<std::string>& env);

}  // namespace tsrun::init

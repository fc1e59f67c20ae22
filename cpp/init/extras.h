#pragma once
#include <string>
#include <vector>

#include "../plan/plan.h"

namespace tsrun::init {

// Runs createContainer hooks from inside the container before pivot_root, the container
// state JSON on their stdin. A failing hook fails its step with the hook's own output.
void run_hooks(const std::vector<plan::Hook>& hooks, const std::string& state);
// startContainer hooks, after the exec fifo: nobody reads the sync channel any more, so a
// failure is written to the fifo `start` is reading (report_fd), and the container exits.
void run_start_hooks(const std::vector<plan::Hook>& hooks, const std::string& state, int report_fd);

// Offsets of a new time namespace, written by its creator before any process enters it.
void write_time_offsets(const plan::Plan& p);
// Moves this (single-threaded) process into the v1 cgroups whose `tasks` files the plan
// lists, each by writing 0: the kernel then skips the global lock a move by pid takes.
void join_cgroups(const plan::Plan& p);
void set_cpu_affinity(const std::vector<uint32_t>& cpus);
// Writes linux.sysctl into the container's /proc/sys.
void apply_sysctl(const plan::Plan& p);
// oom_score_adj, scheduler, I/O priority: before capabilities are dropped.
void apply_process_settings(const plan::Plan& p);
void apply_personality(const plan::Plan& p);
// AppArmor profile and SELinux label for the coming execve.
void apply_exec_labels(const plan::Plan& p);

}  // namespace tsrun::init

// tsrun-init's side of the sync channel (see cpp/plan/sync.h for the protocol).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../plan/sync.h"

namespace tsrun::init {

enum class Step : uint32_t {
#define STEP(id, name) id,
#include "../plan/steps.def"
#undef STEP
};

void set_sync_fd(int fd);
// For runs by hand: records are printed to stderr as text instead.
void set_text_mode();
int sync_fd();

// Sends an error record naming the step (and the plan index it was working on) and exits.
[[noreturn]] void fail(Step step, int err, int index, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// With the plan's debug on, says what tsrun-init does next (a DEBUG record, not answered).
void set_debug(bool on);
void debug(Step step, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

void send_child_pid(int64_t pid);
void send_ready();
// Asks the parent to write our uid/gid maps and waits until it has.
void request_userns_maps();
// Asks the parent to run its create hooks; returns the container state JSON it answers with.
std::string request_hooks();
// Reports the seccomp listener fd and blocks until the parent has handed it to the agent.
void send_seccomp_fd(int fd);

// Reads the PLAN message: magic, length, bytes.
std::vector<uint8_t> read_plan();

}  // namespace tsrun::init

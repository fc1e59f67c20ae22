// What the client does with processes besides starting tsrun-init (cpp/sys/spawn.h): take
// back its children when the server is lost, and run a call in Node itself.
#pragma once
#include <signal.h>

#include <string>
#include <vector>

namespace tsrun::cli {

/** SIGKILLs every child of ours and reaps them. */
void kill_children();

/** argv and environment of a Node running bin/tsrun.cjs with args (NODE_EXTRA_CA_CERTS
 *  renamed away: Node parses the whole file at start, and tsrun opens no TLS connection). */
std::vector<std::string> cold_argv(const std::vector<std::string>& args);
std::vector<std::string> cold_env();

/** Runs `tsrun args` in Node to its end; its exit status. */
int run_cold(const std::vector<std::string>& args, const sigset_t& mask);

/** Becomes `tsrun args` in Node (the call runs as it did before there was a server). */
[[noreturn]] void exec_cold(const std::vector<std::string>& args, const sigset_t& mask);

}  // namespace tsrun::cli

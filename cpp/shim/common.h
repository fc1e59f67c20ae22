// What the launcher's actions share: where things are (the package, node, the state root,
// the socket directory), small file helpers, and running the Node side.
#pragma once
#include <string>
#include <vector>

#include "../sys/c_strings.h"
#include "flags.h"

namespace tsrun::shim {

using sys::c_strings;

/** This executable's path. */
std::string self_executable();

/** The tsrun package: two levels above this executable (build/Release/). */
std::string package_root();

/** The shim server's script: the bundle (dist/bundle/shim.cjs) when built, else dist/shim/main.js. */
std::string server_script();

/** node, its flags for a shim server, and server_script(): the start of a server's argv.
 *  The flags are $TSRUN_SHIM_NODE_FLAGS (space-separated) when set, else kServerNodeFlags. */
std::vector<std::string> server_command();

/** Our environment for a shim server: NODE_EXTRA_CA_CERTS, when set, is renamed
 *  TSRUN_SHIM_NODE_EXTRA_CA_CERTS. Node parses every certificate of that file as it starts
 *  (~1 MiB of heap for a distribution's bundle), and a server opens no TLS connection; it
 *  puts the variable back (src/shim/hidden-env.ts) for the programs it runs. */
std::vector<std::string> server_environment();

/** The node executable: $TSRUN_NODE, else the one that built us, else "node" on $PATH. */
std::string node_executable();

/** Where the server keeps the runtime's state for a namespace: <base>/<ns>, base from
 *  <bundle>/runtime-root when the server wrote one, else $TSRUN_SHIM_ROOT, else
 *  /run/containerd/ts. */
std::string state_root(const std::string& ns, const std::string& bundle);

/** $TSRUN_SHIM_SOCKET_DIR, else /run/containerd/s (where containerd's shims put theirs). */
std::string socket_dir();

/** The whole file, or false. */
bool read_file(const std::string& path, std::string* out);

/** Writes through a temporary name and a rename, so readers see all or nothing. */
bool write_file_atomic(const std::string& path, const std::string& data);

/** Writes all of data to fd. */
bool write_all(int fd, const std::string& data);

bool exists(const std::string& path);

/** The address a server for this group listens on, without the unix:// prefix. */
std::string group_socket(const Args& args, const std::string& group);

/** Everything after "unix://", or the string itself. */
std::string strip_unix(const std::string& address);

/** A fatal error: one line on stderr, exit 1. */
[[noreturn]] void die(const std::string& message);

}  // namespace tsrun::shim

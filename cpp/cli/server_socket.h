// Where a caller's CLI server listens, and starting one when none does.
#pragma once
#include <string>

namespace tsrun::cli {

struct ServerPlace {
  std::string socket;
  std::string lock;
};

/** The socket of this user's server for this package, mount and user namespace in
 *  $TSRUN_SERVER_DIR, else /run/tsrun-server for root, $XDG_RUNTIME_DIR/tsrun-server for
 *  others (made 0700); false when there is no such place we own (the call runs cold). */
bool server_place(ServerPlace* out);

/** The server's script: dist/bundle/tsrun-server.cjs, else dist/server/entry.js. */
std::string server_script();

/** Which build the server must be: its script's size and mtime (as src/server/serve.ts). */
std::string build_key();

/** A connection to the server at place.socket; -1 when none answers. */
int connect_server(const ServerPlace& place);

/** Starts a server at place (one at a time: place.lock) unless one answers by then, and
 *  connects to it; -1 when it could not be started. */
int start_server(const ServerPlace& place);

/** Whether a server this caller starts would be adopted by a parent that waits for it: the
 *  server's double fork leaves it to the nearest child subreaper, and conmon is one that
 *  waits for every child before it exits, so it would stay until the server leaves. Such a
 *  caller uses a running server but starts none (podman's own calls, whose orphans go to
 *  init, do). */
bool parent_waits_for_orphans();

}  // namespace tsrun::cli

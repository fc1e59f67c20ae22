// Unix stream sockets the launcher binds: a group's server socket and the spare's.
#pragma once
#include <string>

namespace tsrun::shim {

enum class Bound { Listening, Alive, Failed };

/** Whether something accepts connections at path. */
bool probe(const std::string& path);

/** Binds and listens at path (mode 0600). When a live server holds it: Alive; a dead one's
 *  socket file is removed and the bind tried again. Failed with *error set otherwise. */
Bound bind_socket(const std::string& path, int* fd_out, std::string* error);

}  // namespace tsrun::shim

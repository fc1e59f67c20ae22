// Unix stream sockets of the launcher: the ones it binds (a group's server socket, the
// spare's) and the ones it connects to.
#pragma once
#include <string>

namespace tsrun::shim {

enum class Bound { Listening, Alive, Failed };

/** A connected stream socket to path (close-on-exec), or -1 with *error (when given) set. */
int connect_unix(const std::string& path, int* error = nullptr);

/** 0 when something accepts connections at path, else the errno of the attempt
 *  (ECONNREFUSED: a socket file nobody listens on). */
int connect_errno(const std::string& path);

/** Binds and listens at path (mode 0600). When a live server holds it: Alive; a dead one's
 *  socket file is removed and the bind tried again. Failed with *error set otherwise. */
Bound bind_socket(const std::string& path, int* fd_out, std::string* error);

}  // namespace tsrun::shim

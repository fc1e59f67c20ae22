#include "sockets.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tsrun::shim {

bool probe(const std::string& path) {
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

Bound bind_socket(const std::string& path, int* fd_out, std::string* error) {
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    *error = "socket path too long: " + path;
    return Bound::Failed;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  for (int attempt = 0; attempt < 3; attempt++) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *error = std::string("socket: ") + std::strerror(errno);
      return Bound::Failed;
    }
    if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0) {
      if (::chmod(path.c_str(), 0600) < 0 || ::listen(fd, 128) < 0) {
        int e = errno;
        ::close(fd);
        ::unlink(path.c_str());
        *error = "listen " + path + ": " + std::strerror(e);
        return Bound::Failed;
      }
      *fd_out = fd;
      return Bound::Listening;
    }
    int e = errno;
    ::close(fd);
    if (e != EADDRINUSE) {
      *error = "bind " + path + ": " + std::strerror(e);
      return Bound::Failed;
    }
    // A socket file nobody listens on is removed, but only if it is still the one probed:
    // another launcher may have bound a fresh one at the path meanwhile.
    struct stat before{}, after{};
    if (::stat(path.c_str(), &before) < 0) continue;
    if (probe(path)) return Bound::Alive;
    if (::stat(path.c_str(), &after) == 0 && after.st_ino == before.st_ino && after.st_dev == before.st_dev &&
        after.st_ctim.tv_sec == before.st_ctim.tv_sec && after.st_ctim.tv_nsec == before.st_ctim.tv_nsec) {
      ::unlink(path.c_str());
    }
  }
  *error = "bind " + path + ": address in use and no server answers";
  return Bound::Failed;
}

}  // namespace tsrun::shim

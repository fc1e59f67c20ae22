#include "sockets.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tsrun::shim {

namespace {

bool unix_address(const std::string& path, struct sockaddr_un* addr) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

int connect_unix(const std::string& path, int* error) {
  struct sockaddr_un addr;
  int e = ENAMETOOLONG;
  int fd = -1;
  if (unix_address(path, &addr)) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      e = errno;
    } else if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0) {
      e = errno;
      ::close(fd);
      fd = -1;
    }
  }
  if (fd < 0 && error) *error = e;
  return fd;
}

int connect_errno(const std::string& path) {
  int e = 0;
  int fd = connect_unix(path, &e);
  if (fd < 0) return e;
  ::close(fd);
  return 0;
}

Bound bind_socket(const std::string& path, int* fd_out, std::string* error) {
  struct sockaddr_un addr;
  if (!unix_address(path, &addr)) {
    *error = "socket path too long: " + path;
    return Bound::Failed;
  }
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
    if (connect_errno(path) == 0) return Bound::Alive;
    if (::stat(path.c_str(), &after) == 0 && after.st_ino == before.st_ino && after.st_dev == before.st_dev &&
        after.st_ctim.tv_sec == before.st_ctim.tv_sec && after.st_ctim.tv_nsec == before.st_ctim.tv_nsec) {
      ::unlink(path.c_str());
    }
  }
  *error = "bind " + path + ": address in use and no server answers";
  return Bound::Failed;
}

}  // namespace tsrun::shim

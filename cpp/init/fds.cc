#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "../sys/syscalls.h"

namespace tsrun::init {
namespace {

int close_listed_fds(unsigned first, bool cloexec) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  // Listed first and changed after: closing fds while the directory is read would make
  // getdents skip or repeat entries.
  std::vector<int> fds;
  int self = ::dirfd(dir);
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    long fd = std::strtol(e->d_name, nullptr, 10);
    if (fd >= static_cast<long>(first) && fd != self) fds.push_back(static_cast<int>(fd));
  }
  ::closedir(dir);
  for (int fd : fds) {
    if (!cloexec) {
      ::close(fd);
      continue;
    }
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC) && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) return -1;
  }
  return 0;
}

}  // namespace

int close_fds_from(unsigned first, bool cloexec) {
  if (sys::close_range(first, ~0U, cloexec ? CLOSE_RANGE_CLOEXEC : 0) == 0) return 0;
  if (!refused_by_filter(errno)) return -1;
  return close_listed_fds(first, cloexec);
}

}  // namespace tsrun::init

#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sys/syscalls.h"

namespace tsrun::init {
namespace {

constexpr unsigned long long kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// "/a//b/./c/" -> "/a/b/c"; ".." is left for openat2 to clamp at the root.
std::string clean(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (!part.empty() && part != ".") out += "/" + part;
    i = j + 1;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) {
    int saved = errno;
    ::close(fd_);
    errno = saved;
  }
}

bool read_text(const char* path, std::string* out) {
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return false;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

std::string proc_fd(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Fd open_in_root(int root_fd, const std::string& path, unsigned long long extra_resolve) {
  return Fd(sys::openat2(root_fd, clean(path).c_str(), O_PATH | O_CLOEXEC, 0,
                         kResolve | extra_resolve));
}

Fd mkdir_all_in_root(int root_fd, const std::string& path, mode_t mode) {
  std::string p = clean(path);
  Fd cur(::fcntl(root_fd, F_DUPFD_CLOEXEC, 3));
  if (!cur.ok() || p == "/") return cur;
  std::string prefix;
  size_t i = 1;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string name = p.substr(i, j - i);
    prefix += "/" + name;
    // Resolve the whole prefix from the root each time: a symlink met on the way must be
    // followed as the container would see it, which openat2 does only from the root.
    Fd next = open_in_root(root_fd, prefix);
    if (!next.ok() && errno == ENOENT) {
      if (::mkdirat(cur.get(), name.c_str(), mode) < 0 && errno != EEXIST) return Fd();
      next = open_in_root(root_fd, prefix);
    }
    if (!next.ok()) return Fd();
    struct stat st;
    if (::fstat(next.get(), &st) < 0) return Fd();
    if (!S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      return Fd();
    }
    cur = std::move(next);
    i = j + 1;
  }
  return cur;
}

Fd parent_in_root(int root_fd, const std::string& path, std::string* base) {
  std::string p = clean(path);
  size_t slash = p.rfind('/');
  *base = p.substr(slash + 1);
  if (base->empty() || *base == "..") {
    errno = EINVAL;
    return Fd();
  }
  return mkdir_all_in_root(root_fd, slash == 0 ? "/" : p.substr(0, slash), 0755);
}

Fd ensure_file_in_root(int root_fd, const std::string& path, mode_t mode) {
  Fd fd = open_in_root(root_fd, path);
  if (fd.ok() || errno != ENOENT) return fd;
  std::string base;
  Fd parent = parent_in_root(root_fd, path, &base);
  if (!parent.ok()) return Fd();
  // mknodat makes a regular file without opening it, so a fifo or device of the same name
  // swapped in meanwhile is never opened by us.
  if (::mknodat(parent.get(), base.c_str(), S_IFREG | mode, 0) < 0 && errno != EEXIST) {
    return Fd();
  }
  return open_in_root(root_fd, path);
}

}  // namespace tsrun::init

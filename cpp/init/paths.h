// Path handling inside the container's rootfs. Every destination is resolved with
// openat2(RESOLVE_IN_ROOT), so a symlink in the rootfs (even one swapped in while we work)
// resolves inside it and never to the host (the CVE-2021-30465 class). Mounts then target
// the opened fd through /proc/self/fd/N rather than a path string.
#pragma once
#include <sys/types.h>

#include <string>

namespace tsrun::init {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Reads a whole (small) file; false with errno set on failure.
bool read_text(const char* path, std::string* out);

// "/proc/self/fd/N"
std::string proc_fd(int fd);

// Opens path (absolute, read as if root_fd were "/") with O_PATH. extra_resolve adds
// RESOLVE_* flags. Returns an invalid Fd with errno set on failure.
Fd open_in_root(int root_fd, const std::string& path, unsigned long long extra_resolve = 0);

// mkdir -p inside the root; returns an O_PATH fd of the directory.
Fd mkdir_all_in_root(int root_fd, const std::string& path, mode_t mode);

// Makes sure path exists inside the root as a non-directory (creating its parents and an
// empty file when missing); returns an O_PATH fd of it.
Fd ensure_file_in_root(int root_fd, const std::string& path, mode_t mode);

// Splits "/a/b/c" into the O_PATH fd of "/a/b" (created if missing) and "c".
Fd parent_in_root(int root_fd, const std::string& path, std::string* base);

}  // namespace tsrun::init

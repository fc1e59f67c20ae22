// Id-mapped mounts. The kernel takes the mapping from a user namespace fd, so we make a
// throwaway namespace with the mount's mappings: a child unshares it and waits while we
// (outside it) write its maps and open /proc/<child>/ns/user.
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "../sys/syscalls.h"
#include "channel.h"
#include "paths.h"

namespace tsrun::init {
namespace {

constexpr unsigned kOpenTreeClone = 1;  // OPEN_TREE_CLONE
constexpr unsigned kAtRecursive = 0x8000;
constexpr uint64_t kMountAttrIdmap = 0x100000;

std::string map_text(const std::vector<plan::IdMap>& maps) {
  std::string out;
  for (const auto& m : maps) {
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  }
  return out;
}

bool write_file(const std::string& path, const std::string& text) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd.ok() && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

int userns_fd(const plan::RootfsOp& op, int index) {
  int ready[2], hold[2];
  if (::pipe2(ready, O_CLOEXEC) < 0 || ::pipe2(hold, O_CLOEXEC) < 0) fail(Step::MOUNT, errno, index, "pipe for id mapping");
  pid_t pid = ::fork();
  if (pid < 0) fail(Step::MOUNT, errno, index, "fork for id mapping");
  if (pid == 0) {
    ::close(ready[0]);
    ::close(hold[1]);  // or our read below would never see the parent let go
    char c = ::unshare(CLONE_NEWUSER) == 0 ? 1 : 0;
    (void)!::write(ready[1], &c, 1);
    (void)!::read(hold[0], &c, 1);  // until the parent is done with our namespace
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  char ok = 0;
  if (::read(ready[0], &ok, 1) != 1 || !ok) fail(Step::MOUNT, EPERM, index, "user namespace for id mapping");
  ::close(ready[0]);
  std::string base = "/proc/" + std::to_string(pid) + "/";
  int fd = -1;
  if (write_file(base + "uid_map", map_text(op.uid_mappings)) && write_file(base + "gid_map", map_text(op.gid_mappings))) {
    fd = ::open((base + "ns/user").c_str(), O_RDONLY | O_CLOEXEC);
  }
  int err = errno;
  ::close(hold[1]);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (fd < 0) fail(Step::MOUNT, err, index, "id mapping for %s", op.dest.c_str());
  return fd;
}

}  // namespace

std::vector<int> prepare_idmapped_mounts(const plan::Plan& p) {
  std::vector<int> trees(p.rootfs_ops.size(), -1);
  for (size_t i = 0; i < p.rootfs_ops.size(); i++) {
    const auto& op = p.rootfs_ops[i];
    if (op.uid_mappings.empty() && op.gid_mappings.empty()) continue;
    int index = static_cast<int>(i);
    Fd ns(userns_fd(op, index));
    bool recursive = (op.flags & MS_REC) != 0 || op.attr_recursive;
    int tree = sys::open_tree(AT_FDCWD, op.source.c_str(), kOpenTreeClone | O_CLOEXEC | (recursive ? kAtRecursive : 0));
    if (tree < 0) fail(Step::MOUNT, errno, index, "clone %s", op.source.c_str());
    sys::MountAttr attr = {kMountAttrIdmap, 0, 0, static_cast<uint64_t>(ns.get())};
    if (sys::mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? kAtRecursive : 0), &attr) < 0) {
      fail(Step::MOUNT, errno, index, "id-map %s (the filesystem may not support it)", op.source.c_str());
    }
    trees[i] = tree;
  }
  return trees;
}

}  // namespace tsrun::init

// The container's filesystem: propagation, the rootfs bind, the mount/device/symlink
// operations of the plan, pivot_root (or move+chroot), and the read-only and masked paths.
// The order follows runc's prepareRootfs and finalizeRootfs, because callers see the
// difference (mount order in /proc/self/mountinfo, which mounts are read-only when).
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include <linux/magic.h>
#include <linux/openat2.h>

#include "../sys/syscalls.h"
#include "channel.h"
#include "mountinfo.h"
#include "paths.h"

namespace tsrun::init {
namespace {

using plan::OpKind;
using plan::RootfsOp;

int mount_at(const char* source, int fd, const char* fstype, unsigned long flags,
             const char* data) {
  return ::mount(source, proc_fd(fd).c_str(), fstype, flags, data);
}

// Makes the mount holding the rootfs private when it is shared: pivot_root refuses a
// shared parent, and the rootfs bind must not propagate back to the host.
// With rootfsPropagation "slave" the parent becomes a slave instead, so that the rootfs bind
// keeps receiving the host's events.
void make_parent_private(const std::string& rootfs, uint64_t propagation) {
  std::vector<MountInfo> mounts;
  if (!read_mountinfo(&mounts)) fail(Step::ROOT_PROPAGATION, errno, -1, "read mountinfo");
  const MountInfo* parent = mount_containing(mounts, rootfs);
  if (!parent || parent->optional.find("shared:") == std::string::npos) return;
  unsigned long flag = (propagation & MS_SLAVE) ? MS_SLAVE : MS_PRIVATE;
  if (::mount("", parent->mountpoint.c_str(), nullptr, flag, nullptr) < 0) {
    fail(Step::ROOT_PROPAGATION, errno, -1, "make %s %s", parent->mountpoint.c_str(), flag == MS_SLAVE ? "slave" : "private");
  }
}

// rro, rnosuid and the like: attributes set on the mount and everything under it.
void apply_mount_attrs(int root_fd, const RootfsOp& op, int index) {
  if (!op.attr_set && !op.attr_clr) return;
  Fd fd = open_in_root(root_fd, op.dest);
  if (!fd.ok()) fail(Step::MOUNT_ATTR, errno, index, "reopen %s", op.dest.c_str());
  sys::MountAttr attr = {op.attr_set, op.attr_clr, 0, 0};
  unsigned flags = AT_EMPTY_PATH | (op.attr_recursive ? AT_RECURSIVE : 0);
  if (sys::mount_setattr(fd.get(), "", flags, &attr) < 0) {
    fail(Step::MOUNT_ATTR, errno, index, "set 0x%llx clear 0x%llx on %s", static_cast<unsigned long long>(op.attr_set),
         static_cast<unsigned long long>(op.attr_clr), op.dest.c_str());
  }
}

// Flags a bind mount inherits locked from its source under a user namespace: a remount
// must repeat them or the kernel refuses it.
uint64_t locked_flags(int fd) {
  struct statfs sfs;
  if (::fstatfs(fd, &sfs) < 0) return 0;
  return sfs.f_flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
}

void apply_propagation(int root_fd, const RootfsOp& op, int index) {
  if (op.propagation.empty()) return;
  // A fresh lookup: the fd used to mount names the directory under the new mount.
  Fd fd = open_in_root(root_fd, op.dest);
  if (!fd.ok()) fail(Step::MOUNT, errno, index, "reopen %s", op.dest.c_str());
  for (uint64_t flag : op.propagation) {
    if (mount_at("", fd.get(), nullptr, flag, nullptr) < 0) {
      fail(Step::MOUNT, errno, index, "propagation 0x%llx on %s",
           static_cast<unsigned long long>(flag), op.dest.c_str());
    }
  }
}

// Kept in step with PROC_MOUNT_ALLOWED in src/runtime/plan/proc-mounts.ts, which refuses
// these destinations by name; here the resolved target is judged, so that a destination
// reaching into /proc through a symlink in the rootfs is refused too.
constexpr const char* kProcMountAllowed[] = {
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
    "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

void check_not_in_proc(int dest, const RootfsOp& op, int index) {
  struct statfs sfs;
  if (::fstatfs(dest, &sfs) < 0) fail(Step::MOUNT, errno, index, "statfs %s", op.dest.c_str());
  if (sfs.f_type != PROC_SUPER_MAGIC || op.dest == "/proc") return;
  for (const char* allowed : kProcMountAllowed) {
    if (op.dest == allowed) return;
  }
  fail(Step::MOUNT, EPERM, index, "%s cannot be mounted because it is inside /proc", op.dest.c_str());
}

// An id-mapped tree prepared by the bootstrap (idmap.cc), -1 for a plain bind; the source
// opened by the bootstrap (open_bind_sources), -1 to resolve op.source here.
void do_bind(int root_fd, const RootfsOp& op, int index, int idmapped_tree = -1, int source_fd = -1) {
  struct stat st;
  if ((source_fd >= 0 ? ::fstat(source_fd, &st) : ::stat(op.source.c_str(), &st)) < 0) {
    fail(Step::MOUNT, errno, index, "bind source %s", op.source.c_str());
  }
  // the magic link reaches the file without searching the directories above it again
  std::string source = source_fd >= 0 ? proc_fd(source_fd) : op.source;
  Fd dest = S_ISDIR(st.st_mode) ? mkdir_all_in_root(root_fd, op.dest, 0755)
                                : ensure_file_in_root(root_fd, op.dest, 0755);
  if (!dest.ok()) fail(Step::MOUNT, errno, index, "create mount point %s", op.dest.c_str());
  check_not_in_proc(dest.get(), op, index);
  if (idmapped_tree >= 0) {
    constexpr unsigned kMoveFromEmpty = 0x4, kMoveToEmpty = 0x40;
    if (sys::move_mount(idmapped_tree, "", dest.get(), "", kMoveFromEmpty | kMoveToEmpty) < 0) {
      fail(Step::MOUNT, errno, index, "attach id-mapped %s on %s", op.source.c_str(), op.dest.c_str());
    }
    ::close(idmapped_tree);
  } else if (mount_at(source.c_str(), dest.get(), "bind", MS_BIND | (op.flags & MS_REC), nullptr) < 0) {
    fail(Step::MOUNT, errno, index, "bind %s on %s", op.source.c_str(), op.dest.c_str());
  }
  if (source_fd >= 0) ::close(source_fd);
  // A bind ignores every flag but MS_REC; the others need a remount of the new mount.
  if (op.flags & ~static_cast<uint64_t>(MS_BIND | MS_REC | MS_REMOUNT)) {
    Fd top = open_in_root(root_fd, op.dest);
    if (!top.ok()) fail(Step::MOUNT, errno, index, "reopen %s", op.dest.c_str());
    uint64_t flags = op.flags | MS_BIND | MS_REMOUNT;
    int rc = mount_at("", top.get(), nullptr, flags, nullptr);
    if (rc < 0 && errno == EPERM) rc = mount_at("", top.get(), nullptr, flags | locked_flags(top.get()), nullptr);
    if (rc < 0) fail(Step::MOUNT, errno, index, "remount %s", op.dest.c_str());
  }
  apply_mount_attrs(root_fd, op, index);
  apply_propagation(root_fd, op, index);
}

// Copies a directory tree, owners and modes included, from one open directory to another.
// Used for tmpcopyup, where the source is the directory a fresh tmpfs now covers.
bool copy_tree(int src, int dst) {
  int scan = ::fcntl(src, F_DUPFD_CLOEXEC, 3);
  DIR* dir = scan >= 0 ? ::fdopendir(scan) : nullptr;
  if (!dir) return false;
  bool ok = true;
  while (struct dirent* e = ::readdir(dir)) {
    const char* name = e->d_name;
    if (!std::strcmp(name, ".") || !std::strcmp(name, "..")) continue;
    struct stat st;
    if (::fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return false;
    mode_t mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      Fd from(::openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!from.ok() || ::mkdirat(dst, name, 0700) < 0) ok = false;
      Fd to(ok ? ::openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1);
      ok = ok && to.ok() && copy_tree(from.get(), to.get()) && ::fchown(to.get(), st.st_uid, st.st_gid) == 0 &&
           ::fchmod(to.get(), mode) == 0;
    } else if (S_ISREG(st.st_mode)) {
      Fd from(::openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      Fd to(::openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      ok = from.ok() && to.ok();
      for (off_t left = st.st_size; ok && left > 0;) {
        ssize_t n = ::sendfile(to.get(), from.get(), nullptr, static_cast<size_t>(left));
        if (n <= 0) ok = false;
        left -= n;
      }
      // Owner first: chown clears set-id bits, which the mode then puts back.
      ok = ok && ::fchown(to.get(), st.st_uid, st.st_gid) == 0 && ::fchmod(to.get(), mode) == 0;
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(src, name, target.data(), target.size());
      ok = n >= 0 && ::symlinkat(target.substr(0, static_cast<size_t>(n)).c_str(), dst, name) == 0 &&
           ::fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) == 0;
    } else {
      ok = ::mknodat(dst, name, st.st_mode, st.st_rdev) == 0 && ::fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) == 0;
    }
    if (!ok) break;
  }
  ::closedir(dir);
  return ok;
}

void do_mount(int root_fd, const RootfsOp& op, int index) {
  Fd dest;
  if (op.fstype == "proc" || op.fstype == "sysfs") {
    // Mounting these through a symlink was a runc escape; refuse anything but a directory.
    // (runc's words, which callers match)
    dest = open_in_root(root_fd, op.dest, RESOLVE_NO_SYMLINKS);
    if (!dest.ok() && errno == ENOENT) dest = mkdir_all_in_root(root_fd, op.dest, 0755);
    struct stat st;
    if ((!dest.ok() && errno == ELOOP) || (dest.ok() && (::fstat(dest.get(), &st) < 0 || !S_ISDIR(st.st_mode)))) {
      fail(Step::MOUNT, dest.ok() ? ENOTDIR : ELOOP, index, "filesystem \"%s\" must be mounted on ordinary directory",
           op.fstype.c_str());
    }
  } else {
    dest = mkdir_all_in_root(root_fd, op.dest, 0755);
  }
  if (!dest.ok()) fail(Step::MOUNT, errno, index, "create mount point %s", op.dest.c_str());
  if (op.fstype != "proc") check_not_in_proc(dest.get(), op, index);
  // tmpcopyup: hold the directory open, so that its contents stay reachable under the tmpfs.
  Fd covered;
  if (op.copy_up) covered = Fd(::open(proc_fd(dest.get()).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (op.copy_up && !covered.ok()) fail(Step::MOUNT, errno, index, "open %s to copy it up", op.dest.c_str());
  if (mount_at(op.source.c_str(), dest.get(), op.fstype.c_str(), op.flags, op.data.c_str()) < 0) {
    // Without a network (or IPC) namespace of its own, a user-namespaced container may not
    // mount sysfs (or mqueue) afresh; like runc, it gets the host's, bound.
    const char* host = op.fstype == "sysfs" ? "/sys" : op.fstype == "mqueue" ? "/dev/mqueue" : nullptr;
    if (errno != EPERM || !host) {
      fail(Step::MOUNT, errno, index, "mount %s (%s) on %s", op.source.c_str(), op.fstype.c_str(), op.dest.c_str());
    }
    RootfsOp bind = op;
    bind.kind = OpKind::Bind;
    bind.source = host;
    bind.flags = op.flags | MS_BIND | MS_REC;
    do_bind(root_fd, bind, index);
    return;
  }
  if (op.copy_up) {
    Fd top = open_in_root(root_fd, op.dest);
    Fd fresh(top.ok() ? ::open(proc_fd(top.get()).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1);
    struct stat st;
    if (!fresh.ok() || !copy_tree(covered.get(), fresh.get()) || ::fstat(covered.get(), &st) < 0 ||
        ::fchown(fresh.get(), st.st_uid, st.st_gid) < 0 || ::fchmod(fresh.get(), st.st_mode & 07777) < 0) {
      fail(Step::MOUNT, errno, index, "copy %s up into the tmpfs", op.dest.c_str());
    }
  }
  apply_mount_attrs(root_fd, op, index);
  apply_propagation(root_fd, op, index);
}

void do_mknod(int root_fd, const RootfsOp& op, int index) {
  std::string base;
  Fd parent = parent_in_root(root_fd, op.dest, &base);
  if (!parent.ok()) fail(Step::DEVICE, errno, index, "parent of %s", op.dest.c_str());
  mode_t type = op.dev_type == plan::DevType::Block ? S_IFBLK : op.dev_type == plan::DevType::Fifo ? S_IFIFO : S_IFCHR;
  mode_t old = ::umask(0);
  int rc = ::mknodat(parent.get(), base.c_str(), type | (op.mode & 07777),
                     makedev(op.dev_major, op.dev_minor));
  ::umask(old);
  // A node already there (from the rootfs image) is kept when it is that device; anything
  // else in its place is an error (the spec's MUST; runc keeps whatever it finds).
  if (rc < 0 && errno == EEXIST) {
    struct stat st;
    if (::fstatat(parent.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) fail(Step::DEVICE, errno, index, "stat %s", op.dest.c_str());
    bool same = (st.st_mode & S_IFMT) == type && (type == S_IFIFO || st.st_rdev == makedev(op.dev_major, op.dev_minor));
    if (!same) fail(Step::DEVICE, EEXIST, index, "%s exists and is not that device", op.dest.c_str());
    return;
  }
  if (rc < 0) fail(Step::DEVICE, errno, index, "mknod %s", op.dest.c_str());
  if (::fchownat(parent.get(), base.c_str(), op.uid, op.gid, AT_SYMLINK_NOFOLLOW) < 0) {
    fail(Step::DEVICE, errno, index, "chown %s", op.dest.c_str());
  }
}

void do_bind_device(int root_fd, const RootfsOp& op, int index) {
  Fd dest = ensure_file_in_root(root_fd, op.dest, 0);
  if (!dest.ok()) fail(Step::DEVICE, errno, index, "create %s", op.dest.c_str());
  if (mount_at(op.source.c_str(), dest.get(), "bind", MS_BIND, nullptr) < 0) {
    fail(Step::DEVICE, errno, index, "bind %s on %s", op.source.c_str(), op.dest.c_str());
  }
}

void do_symlink(int root_fd, const RootfsOp& op, int index) {
  std::string base;
  Fd parent = parent_in_root(root_fd, op.dest, &base);
  if (!parent.ok()) fail(Step::SYMLINK, errno, index, "parent of %s", op.dest.c_str());
  if ((op.flags & plan::OP_REPLACE) && ::unlinkat(parent.get(), base.c_str(), 0) < 0 &&
      errno != ENOENT) {
    fail(Step::SYMLINK, errno, index, "remove %s", op.dest.c_str());
  }
  if (::symlinkat(op.source.c_str(), parent.get(), base.c_str()) < 0 && errno != EEXIST) {
    fail(Step::SYMLINK, errno, index, "%s -> %s", op.dest.c_str(), op.source.c_str());
  }
}

void pivot(const std::string& rootfs) {
  // pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then
  // drops it without needing a directory for it inside the rootfs.
  Fd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  Fd new_root(::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!old_root.ok() || !new_root.ok()) fail(Step::PIVOT_ROOT, errno, -1, "open roots");
  if (::fchdir(new_root.get()) < 0) fail(Step::PIVOT_ROOT, errno, -1, "chdir %s", rootfs.c_str());
  if (sys::pivot_root(".", ".") < 0) fail(Step::PIVOT_ROOT, errno, -1, "%s", rootfs.c_str());
  if (::fchdir(old_root.get()) < 0) fail(Step::PIVOT_ROOT, errno, -1, "chdir old root");
  // rslave, not rprivate: unmounts must not reach the host, and the host must still be
  // able to unmount what it shares with us.
  if (::mount("", ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
    fail(Step::PIVOT_ROOT, errno, -1, "make old root rslave");
  }
  if (::umount2(".", MNT_DETACH) < 0) fail(Step::PIVOT_ROOT, errno, -1, "detach old root");
  if (::chdir("/") < 0) fail(Step::PIVOT_ROOT, errno, -1, "chdir /");
}

// --no-pivot: move the rootfs over "/" and chroot. The host's full proc and sysfs mounts
// stay in this mount namespace, hidden only by the chroot, and the kernel would let a
// nested container mount procfs on their strength; so they are detached first, as runc does.
void move_root(const std::string& rootfs) {
  std::vector<MountInfo> mounts;
  if (!read_mountinfo(&mounts)) fail(Step::CHROOT, errno, -1, "read mountinfo");
  for (const auto& m : mounts) {
    if (m.root != "/" || (m.fstype != "proc" && m.fstype != "sysfs")) continue;
    if (m.mountpoint.compare(0, rootfs.size(), rootfs) == 0) continue;
    const char* p = m.mountpoint.c_str();
    if (::mount("", p, nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      fail(Step::CHROOT, errno, -1, "make %s rslave", p);
    }
    if (::umount2(p, MNT_DETACH) < 0) {
      if (errno != EINVAL && errno != EPERM) fail(Step::CHROOT, errno, -1, "detach %s", p);
      if (::mount("tmpfs", p, "tmpfs", 0, nullptr) < 0) fail(Step::CHROOT, errno, -1, "cover %s", p);
    }
  }
  if (::mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) {
    fail(Step::CHROOT, errno, -1, "move %s to /", rootfs.c_str());
  }
  if (::chroot(".") < 0) fail(Step::CHROOT, errno, -1, "chroot");
  if (::chdir("/") < 0) fail(Step::CHROOT, errno, -1, "chdir /");
}

// Standard streams on the host's /dev/null are moved to the container's, so that no fd
// of the container refers to a host mount.
void reopen_dev_null() {
  struct stat null_st;
  if (::stat("/dev/null", &null_st) < 0) return;
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (::fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != null_st.st_rdev) continue;
    if (st.st_dev == null_st.st_dev && st.st_ino == null_st.st_ino) continue;
    int flags = ::fcntl(fd, F_GETFL);
    int n = ::open("/dev/null", (flags & O_ACCMODE) | O_CLOEXEC);
    if (n < 0) fail(Step::PIVOT_ROOT, errno, -1, "reopen /dev/null");
    if (::dup3(n, fd, 0) < 0) fail(Step::PIVOT_ROOT, errno, -1, "dup /dev/null");
    ::close(n);
  }
}

// Read-only remount of the mount at path. With keep_flags, nosuid/nodev/noexec are kept
// (a bind remount otherwise clears them); without, they are kept only when the kernel insists
// because they are locked (under a user namespace). runc does the first for readonlyPaths
// and the second for the rootfs.
int remount_readonly(const char* path, bool keep_flags) {
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  struct statfs sfs;
  if (keep_flags) {
    if (::statfs(path, &sfs) < 0) return -1;
    flags |= sfs.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    return ::mount("", path, nullptr, flags, nullptr);
  }
  if (::mount("", path, nullptr, flags, nullptr) == 0) return 0;
  if (::statfs(path, &sfs) < 0) return -1;
  return ::mount("", path, nullptr, flags | sfs.f_flags, nullptr);
}

}  // namespace

void prepare_root(const plan::Plan& p, bool new_mount_ns) {
  if (new_mount_ns) {
    uint64_t flags = p.rootfs_propagation ? p.rootfs_propagation : MS_SLAVE | MS_REC;
    if (::mount("", "/", nullptr, flags, nullptr) < 0) {
      fail(Step::ROOT_PROPAGATION, errno, -1, "/ to 0x%llx", static_cast<unsigned long long>(flags));
    }
    make_parent_private(p.rootfs, p.rootfs_propagation);
  }
  if (::mount(p.rootfs.c_str(), p.rootfs.c_str(), "bind", MS_BIND | MS_REC, nullptr) < 0) {
    fail(Step::ROOTFS_BIND, errno, -1, "%s", p.rootfs.c_str());
  }
}

void run_rootfs_ops(const plan::Plan& p, const std::vector<int>& idmapped_trees, const std::vector<int>& bind_sources) {
  Fd root(::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.ok()) fail(Step::MOUNT, errno, -1, "open rootfs %s", p.rootfs.c_str());
  for (size_t i = 0; i < p.rootfs_ops.size(); i++) {
    const RootfsOp& op = p.rootfs_ops[i];
    int index = static_cast<int>(i);
    switch (op.kind) {
      case OpKind::Mount: do_mount(root.get(), op, index); break;
      case OpKind::Bind:
        do_bind(root.get(), op, index, idmapped_trees.empty() ? -1 : idmapped_trees[i], bind_sources.empty() ? -1 : bind_sources[i]);
        break;
      case OpKind::Mknod: do_mknod(root.get(), op, index); break;
      case OpKind::BindDevice: do_bind_device(root.get(), op, index); break;
      case OpKind::Symlink: do_symlink(root.get(), op, index); break;
      default: fail(Step::PLAN, EINVAL, index, "unknown rootfs operation %d", static_cast<int>(op.kind));
    }
  }
}

void enter_root(const plan::Plan& p, bool new_mount_ns) {
  if (::chdir(p.rootfs.c_str()) < 0) fail(Step::PIVOT_ROOT, errno, -1, "chdir %s", p.rootfs.c_str());
  if (p.no_pivot) {
    move_root(p.rootfs);
  } else if (new_mount_ns) {
    pivot(p.rootfs);
    // The container's / gets the propagation asked for (the host side was arranged above).
    if (p.rootfs_propagation && ::mount("", "/", nullptr, p.rootfs_propagation, nullptr) < 0) {
      fail(Step::ROOT_PROPAGATION, errno, -1, "/ to 0x%llx", static_cast<unsigned long long>(p.rootfs_propagation));
    }
  } else {
    if (::chroot(".") < 0) fail(Step::CHROOT, errno, -1, "%s", p.rootfs.c_str());
    if (::chdir("/") < 0) fail(Step::CHROOT, errno, -1, "chdir /");
  }
  reopen_dev_null();
}

void finalize_rootfs(const plan::Plan& p) {
  if (p.readonly_dev && remount_readonly("/dev", true) < 0) {
    fail(Step::READONLY_ROOT, errno, -1, "remount /dev read-only");
  }
  if (p.readonly_root && remount_readonly("/", false) < 0) {
    fail(Step::READONLY_ROOT, errno, -1, "remount / read-only");
  }
}

void apply_path_rules(const plan::Plan& p) {
  for (size_t i = 0; i < p.readonly_paths.size(); i++) {
    const char* path = p.readonly_paths[i].c_str();
    if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      fail(Step::READONLY_PATH, errno, static_cast<int>(i), "bind %s", path);
    }
    if (remount_readonly(path, true) < 0) {
      fail(Step::READONLY_PATH, errno, static_cast<int>(i), "remount %s", path);
    }
  }
  for (size_t i = 0; i < p.masked_paths.size(); i++) {
    const char* path = p.masked_paths[i].c_str();
    if (::mount("/dev/null", path, nullptr, MS_BIND, nullptr) == 0 || errno == ENOENT) continue;
    // A directory cannot take /dev/null; an empty read-only tmpfs hides it instead.
    if (errno != ENOTDIR || ::mount("tmpfs", path, "tmpfs", MS_RDONLY, nullptr) < 0) {
      fail(Step::MASKED_PATH, errno, static_cast<int>(i), "%s", path);
    }
  }
}

}  // namespace tsrun::init

#include "bind-sources.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "../sys/scm.h"
#include "channel.h"

namespace tsrun::init {
namespace {

using plan::OpKind;

bool wanted(const plan::Plan& p, const std::vector<int>& idmapped_trees, size_t i) {
  return p.rootfs_ops[i].kind == OpKind::Bind && (idmapped_trees.empty() || idmapped_trees[i] < 0);
}

// One message per op opened: the op's index, and the fd (cpp/sys/scm.h).
void send_source(int sock, int32_t index, int fd) { (void)sys::send_with_fds(sock, &index, sizeof(index), &fd, 1, 0); }

// -2 at the end of the exchange; the index with *fd set otherwise.
int32_t receive_source(int sock, int* fd) {
  int32_t index = -1;
  std::vector<int> fds;
  bool truncated = false;
  ssize_t n = sys::recv_with_fds(sock, &index, sizeof(index), 0, &fds, &truncated);
  if (n != static_cast<ssize_t>(sizeof(index)) || fds.size() != 1) {
    for (int f : fds) ::close(f);
    return -2;
  }
  *fd = fds[0];
  return index;
}

// The helper: waits until the bootstrap is in its namespaces, joins its mount namespace and
// opens each source there with the runtime's credentials. Whatever fails is left to the bind.
[[noreturn]] void helper_main(const plan::Plan& p, const std::vector<int>& idmapped_trees, int sock) {
  char go;
  ssize_t n;
  do {
    n = ::read(sock, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(0);
  std::string ns = "/proc/" + std::to_string(::getppid()) + "/ns/mnt";
  int mnt = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
  if (mnt < 0 || ::setns(mnt, CLONE_NEWNS) < 0) ::_exit(0);
  for (size_t i = 0; i < p.rootfs_ops.size(); i++) {
    if (!wanted(p, idmapped_trees, i)) continue;
    int fd = ::open(p.rootfs_ops[i].source.c_str(), O_PATH | O_CLOEXEC);
    if (fd >= 0) send_source(sock, static_cast<int32_t>(i), fd);
  }
  ::_exit(0);
}

}  // namespace

BindSources BindSources::start(const plan::Plan& p, const std::vector<int>& idmapped_trees) {
  BindSources s;
  bool userns = false;
  for (const auto& ns : p.namespaces) userns = userns || ns.type == plan::NsType::User;
  bool binds = false;
  for (size_t i = 0; i < p.rootfs_ops.size(); i++) binds = binds || wanted(p, idmapped_trees, i);
  if (!userns || !binds) return s;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) fail(Step::MOUNT, errno, -1, "socketpair for the bind sources");
  pid_t pid = ::fork();
  if (pid < 0) fail(Step::MOUNT, errno, -1, "fork the bind sources' opener");
  if (pid == 0) {
    ::close(sv[0]);
    helper_main(p, idmapped_trees, sv[1]);
  }
  ::close(sv[1]);
  s.helper_ = pid;
  s.sock_ = sv[0];
  return s;
}

std::vector<int> BindSources::collect(const plan::Plan& p) {
  std::vector<int> fds(p.rootfs_ops.size(), -1);
  if (helper_ < 0) return fds;
  debug(Step::MOUNT, "open the sources of binds from the runtime's user namespace");
  char go = 1;
  if (::write(sock_, &go, 1) == 1) {
    for (;;) {
      int fd = -1;
      int32_t index = receive_source(sock_, &fd);
      if (index == -2) break;
      if (index >= 0 && static_cast<size_t>(index) < fds.size() && fds[index] < 0) {
        fds[index] = fd;
      } else {
        ::close(fd);
      }
    }
  }
  ::close(sock_);
  while (::waitpid(helper_, nullptr, 0) < 0 && errno == EINTR) {
  }
  return fds;
}

}  // namespace tsrun::init

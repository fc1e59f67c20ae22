// Loading the seccomp filter the parent compiled (src/seccomp, cpp/napi/seccomp.cc). No
// libseccomp here: tsrun-init is static and only needs the kernel's interface.
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "channel.h"

namespace tsrun::init {

int load_seccomp_filter(const std::string& bpf, uint32_t flags) {
  if (bpf.empty() || bpf.size() % sizeof(struct sock_filter) != 0 ||
      bpf.size() / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    fail(Step::SECCOMP, EINVAL, -1, "filter of %zu bytes", bpf.size());
  }
  std::vector<struct sock_filter> insns(bpf.size() / sizeof(struct sock_filter));
  std::memcpy(insns.data(), bpf.data(), bpf.size());
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(insns.size());
  prog.filter = insns.data();
  if (flags == 0) {
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
      fail(Step::SECCOMP, errno, -1, "prctl(PR_SET_SECCOMP)");
    }
    return -1;
  }
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) fail(Step::SECCOMP, errno, -1, "seccomp(SECCOMP_SET_MODE_FILTER, 0x%x)", flags);
  return (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) ? static_cast<int>(rc) : -1;
}

void apply_seccomp(const plan::Plan& p) {
  if (!p.has_seccomp) return;
  int listener = load_seccomp_filter(p.seccomp.bpf, p.seccomp.flags);
  if (listener < 0) return;
  send_seccomp_fd(listener);
  ::close(listener);
}

}  // namespace tsrun::init

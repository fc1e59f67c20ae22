// The container process itself: console, identity, limits, privileges, and the final exec.
// The order of finalize_identity follows runc's finalizeNamespace, because it decides what
// the container may still do at each point (chdir before setuid, bounding set before caps).
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../sys/syscalls.h"
#include "channel.h"
#include "fds.h"
#include "paths.h"

namespace tsrun::init {
namespace {

// Key permission bits (keyutils.h, which the kernel headers do not carry).
constexpr unsigned int kKeyUserSearch = 0x00080000;
constexpr unsigned int kKeyOtherSearch = 0x00000008;

bool has_env(const std::vector<std::string>& env, const char* name) {
  size_t n = std::strlen(name);
  for (const auto& e : env) {
    if (e.size() > n && e.compare(0, n, name) == 0 && e[n] == '=') return true;
  }
  return false;
}

std::string env_value(const std::vector<std::string>& env, const char* name) {
  size_t n = std::strlen(name);
  for (const auto& e : env) {
    if (e.size() > n && e.compare(0, n, name) == 0 && e[n] == '=') return e.substr(n + 1);
  }
  return "";
}

// The home directory of uid in the container's /etc/passwd, or "/" as runc defaults.
std::string home_of(uint32_t uid) {
  std::string text;
  if (!read_text("/etc/passwd", &text)) return "/";
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::vector<std::string> f;
    size_t i = start;
    while (i <= end) {
      size_t j = text.find(':', i);
      if (j == std::string::npos || j > end) j = end;
      f.push_back(text.substr(i, j - i));
      i = j + 1;
    }
    if (f.size() >= 6 && f[2] == std::to_string(uid)) return f[5];
    start = end + 1;
  }
  return "/";
}

bool send_fd(int sock, int fd, const char* name) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  std::memset(cbuf, 0, sizeof(cbuf));
  struct iovec iov;
  iov.iov_base = const_cast<char*>(name);
  iov.iov_len = std::strlen(name);
  struct msghdr msg;
  std::memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof(cbuf);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n >= 0;
}

// Stdio owned by another user than the container's is handed to it (only the uid), so a
// non-root process can use the console it was given. /dev/null is left alone.
void fix_stdio_owner(uint32_t uid) {
  struct stat null_st;
  if (::stat("/dev/null", &null_st) < 0) fail(Step::USER, errno, -1, "stat /dev/null");
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (::fstat(fd, &st) < 0) fail(Step::USER, errno, -1, "fstat fd %d", fd);
    if (st.st_uid == uid || st.st_rdev == null_st.st_rdev) continue;
    if (::fchown(fd, uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS) {
      fail(Step::USER, errno, -1, "chown fd %d", fd);
    }
  }
}

void set_capabilities(const plan::Caps& caps) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = static_cast<uint32_t>(caps.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(caps.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(caps.inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &hdr, data) < 0) fail(Step::CAPABILITIES, errno, -1, "capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    fail(Step::CAPABILITIES, errno, -1, "clear ambient set");
  }
  for (int cap = 0; cap < 64; cap++) {
    if (!(caps.ambient & (1ULL << cap))) continue;
    // Like runc, a cap the kernel cannot raise (not inheritable, or unknown) is skipped:
    // the runc spec's default asks for ambient caps without inheritable ones.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EINVAL &&
        errno != EPERM) {
      fail(Step::CAPABILITIES, errno, cap, "raise ambient cap %d", cap);
    }
  }
}

// The kernel's getcwd prefixes a directory outside the process's root with "(unreachable)":
// a cwd reached through a host fd (e.g. /proc/self/fd/N of a preserved or leaked fd) must
// never be where the container's program starts (the CVE-2024-21626 class).
void check_cwd_inside_root(const std::string& cwd) {
  char buf[4096];
  long n = ::syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0) fail(Step::CWD, errno, -1, "%s", cwd.c_str());
  if (buf[0] != '/') fail(Step::CWD, EXDEV, -1, "%s: the working directory is outside the container's root", cwd.c_str());
}

// 0 when path is an executable file, else the errno that says why not.
int check_executable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return errno;
  return (!S_ISDIR(st.st_mode) && (st.st_mode & 0111)) ? 0 : EACCES;
}

}  // namespace

void join_session_keyring(const plan::Plan& p, bool new_user_ns) {
  std::string name = "_ses." + p.container_id;
  long id = sys::keyctl(KEYCTL_JOIN_SESSION_KEYRING, reinterpret_cast<unsigned long>(name.c_str()), 0, 0);
  if (id < 0) {
    // No keyrings in this kernel: the keyring is a best-effort isolation, as in runc.
    if (errno == ENOSYS) return;
    fail(Step::KEYRING, errno, -1, "join %s", name.c_str());
  }
  char desc[512];
  long n = sys::keyctl(KEYCTL_DESCRIBE, static_cast<unsigned long>(id),
                       reinterpret_cast<unsigned long>(desc), sizeof(desc) - 1);
  if (n < 0) fail(Step::KEYRING, errno, -1, "describe %s", name.c_str());
  desc[std::min<long>(n, sizeof(desc) - 1)] = '\0';
  // "type;uid;gid;perm;description": the container's user needs search permission on it.
  unsigned int perm = 0;
  if (std::sscanf(desc, "%*[^;];%*[^;];%*[^;];%x;", &perm) != 1) {
    fail(Step::KEYRING, EINVAL, -1, "unexpected key description %s", desc);
  }
  perm |= new_user_ns ? kKeyOtherSearch : kKeyUserSearch;
  if (sys::keyctl(KEYCTL_SETPERM, static_cast<unsigned long>(id), perm, 0) < 0) {
    fail(Step::KEYRING, errno, -1, "set permissions of %s", name.c_str());
  }
}

void setup_console(const plan::Plan& p, bool mount_console) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(Step::CONSOLE, errno, -1, "open /dev/ptmx");
  int unlock = 0;
  unsigned int n = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) < 0 || ::ioctl(master, TIOCGPTN, &n) < 0) {
    fail(Step::CONSOLE, errno, -1, "unlock pty");
  }
  std::string slave = "/dev/pts/" + std::to_string(n);
  if (p.process.console_height && p.process.console_width) {
    struct winsize ws;
    std::memset(&ws, 0, sizeof(ws));
    ws.ws_row = static_cast<unsigned short>(p.process.console_height);
    ws.ws_col = static_cast<unsigned short>(p.process.console_width);
    if (::ioctl(master, TIOCSWINSZ, &ws) < 0) fail(Step::CONSOLE, errno, -1, "set console size");
  }
  if (mount_console) {
    mode_t old = ::umask(0);
    int c = ::open("/dev/console", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    ::umask(old);
    if (c < 0 && errno != EEXIST) fail(Step::CONSOLE, errno, -1, "create /dev/console");
    if (c >= 0) ::close(c);
    if (::mount(slave.c_str(), "/dev/console", nullptr, MS_BIND, nullptr) < 0) {
      fail(Step::CONSOLE, errno, -1, "bind %s on /dev/console", slave.c_str());
    }
  }
  if (!send_fd(p.console_socket_fd, master, "/dev/ptmx")) {
    fail(Step::CONSOLE, errno, -1, "send the pty master to the console socket");
  }
  ::close(master);
  ::close(p.console_socket_fd);
  int s = ::open(slave.c_str(), O_RDWR | O_CLOEXEC);
  if (s < 0) fail(Step::CONSOLE, errno, -1, "open %s", slave.c_str());
  for (int fd = 0; fd < 3; fd++) {
    if (::dup3(s, fd, 0) < 0) fail(Step::CONSOLE, errno, -1, "dup %s", slave.c_str());
  }
  ::close(s);
  if (::ioctl(0, TIOCSCTTY, 0) < 0) fail(Step::CONSOLE, errno, -1, "set controlling terminal");
}

bool setgroups_denied() {
  std::string text;
  return read_text("/proc/self/setgroups", &text) && text.compare(0, 4, "deny") == 0;
}

void set_names(const plan::Plan& p) {
  if (p.has_hostname && ::sethostname(p.hostname.data(), p.hostname.size()) < 0) {
    fail(Step::HOSTNAME, errno, -1, "%s", p.hostname.c_str());
  }
  if (p.has_domainname && ::setdomainname(p.domainname.data(), p.domainname.size()) < 0) {
    fail(Step::DOMAINNAME, errno, -1, "%s", p.domainname.c_str());
  }
}

void set_rlimits(const plan::Process& proc) {
  for (size_t i = 0; i < proc.rlimits.size(); i++) {
    const auto& r = proc.rlimits[i];
    struct rlimit lim = {r.soft, r.hard};
    if (::setrlimit(static_cast<__rlimit_resource_t>(r.resource), &lim) < 0) {
      fail(Step::RLIMIT, errno, static_cast<int>(i), "resource %d soft %llu hard %llu", r.resource,
           static_cast<unsigned long long>(r.soft), static_cast<unsigned long long>(r.hard));
    }
  }
}

void finalize_identity(const plan::Plan& p, std::vector<std::string>* env) {
  const plan::Process& proc = p.process;
  // Every fd the container is not meant to have goes at exec: ours are above the
  // preserved ones (the CVE-2024-21626 class is a host fd that survives into it).
  if (close_fds_from(3 + p.preserve_fds, true) < 0) {
    fail(Step::CLOSE_FDS, errno, -1, "mark fds from %u close-on-exec", 3 + p.preserve_fds);
  }
  // chdir while still root, where the new user may lack permission but we do not.
  bool chdir_done = ::chdir(proc.cwd.c_str()) == 0;
  if (!chdir_done && errno != EACCES) fail(Step::CWD, errno, -1, "%s", proc.cwd.c_str());

  for (int cap = 0; cap < 64; cap++) {
    if (proc.caps.bounding & (1ULL << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
      fail(Step::CAP_BOUNDING, errno, cap, "drop cap %d", cap);
    }
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(Step::USER, errno, -1, "keep caps");
  if (proc.uid != 0) fix_stdio_owner(proc.uid);
  std::vector<gid_t> groups(proc.additional_gids.begin(), proc.additional_gids.end());
  if (proc.keep_groups) {
    if (!groups.empty()) fail(Step::USER, EPERM, -1, "additionalGids: cannot set any additional groups in a rootless container");
  } else if (::setgroups(groups.size(), groups.data()) < 0) {
    if (errno != EPERM || !setgroups_denied()) fail(Step::USER, errno, -1, "setgroups");
    if (!groups.empty()) fail(Step::USER, EPERM, -1, "additionalGids: setgroups is denied in this user namespace");
  }
  if (::setresgid(proc.gid, proc.gid, proc.gid) < 0) fail(Step::USER, errno, -1, "setgid %u", proc.gid);
  if (::setresuid(proc.uid, proc.uid, proc.uid) < 0) fail(Step::USER, errno, -1, "setuid %u", proc.uid);
  if (!has_env(*env, "HOME")) env->push_back("HOME=" + home_of(proc.uid));
  if (!chdir_done && ::chdir(proc.cwd.c_str()) < 0) fail(Step::CWD, errno, -1, "%s", proc.cwd.c_str());
  check_cwd_inside_root(proc.cwd);
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(Step::USER, errno, -1, "clear keep caps");
  set_capabilities(proc.caps);
}

std::string lookup_executable(const plan::Process& proc, const std::vector<std::string>& env) {
  const std::string& file = proc.args.at(0);
  std::string found;
  if (file.find('/') != std::string::npos) {
    if (int err = check_executable(file)) fail(Step::LOOKUP, err, -1, "exec: \"%s\"", file.c_str());
    found = file;
  } else {
    // $PATH of the container's environment, as Go's exec.LookPath reads it in runc.
    std::string path = env_value(env, "PATH");
    size_t i = 0;
    while (found.empty() && !path.empty() && i <= path.size()) {
      size_t j = path.find(':', i);
      if (j == std::string::npos) j = path.size();
      std::string dir = path.substr(i, j - i);
      std::string candidate = (dir.empty() ? "." : dir) + "/" + file;
      if (check_executable(candidate) == 0) found = candidate;
      i = j + 1;
    }
    if (found.empty()) {
      fail(Step::LOOKUP, ENOENT, -1, "exec: \"%s\": executable file not found in $PATH", file.c_str());
    }
  }
  // A file on a noexec mount passes the mode check; ask the kernel. glibc's faccessat with
  // AT_EACCESS fails when a seccomp filter refuses faccessat2; runc 1.1 (Go's
  // unix.Faccessat) takes EPERM and ENOSYS as "cannot tell" and keeps the mode check.
  if (sys::faccessat2(AT_FDCWD, found.c_str(), X_OK, AT_EACCESS) < 0 && !refused_by_filter(errno)) {
    fail(Step::LOOKUP, errno, -1, "exec: \"%s\"", found.c_str());
  }
  return found;
}

int wait_for_start(const plan::Plan& p) {
  // The fifo was passed as an O_PATH fd; reopening it for writing blocks until `start`
  // opens it for reading. `start` reads to the end: "0" alone when the execve went ahead
  // (the fd is close-on-exec), "0" and a message when a startContainer hook failed.
  std::string path = proc_fd(p.fifo_fd);
  int fd;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0 || ::write(fd, "0", 1) != 1) {
    std::fprintf(stderr, "tsrun-init: exec fifo: %s\n", std::strerror(errno));
    ::_exit(127);
  }
  ::close(p.fifo_fd);
  return fd;
}

[[noreturn]] void exec_process(const std::string& path, const plan::Process& proc,
                               const std::vector<std::string>& env) {
  std::vector<char*> argv, envp;
  for (const auto& a : proc.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  // The parent is gone by now; the container's stderr is the one place left to tell.
  std::fprintf(stderr, "tsrun-init: exec %s: %s\n", path.c_str(), std::strerror(errno));
  ::_exit(127);
}

}  // namespace tsrun::init

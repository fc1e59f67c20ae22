// tsrun: what callers run (podman's conmon, containerd's runc shim through go-runc, people).
//
// A small native client, because callers run tsrun several times per container and a Node
// start costs more than runc's whole `run`. It hands the call (argv, cwd, environment,
// umask, and every fd it was given) to the user's warm CLI server (src/server), starting
// one when none answers, and does for the server what must be done by the caller's own
// descendant: it spawns tsrun-init (whose CLONE_PARENT child, the container's init, is then
// ours and, once we exit, the caller's, as runc's is), reaps what it spawned, and passes on
// the signals it receives. It exits with the call's exit code. Whatever the server cannot
// serve, and everything when TSRUN_SERVER=0, runs as before: bin/tsrun.cjs in a Node of its
// own. Should the server die during a call, the client takes back its children, runs the
// undo the server left (a create's `delete --force`), and runs the call cold.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../sys/c_strings.h"
#include "../sys/scm.h"
#include "../sys/spawn.h"
#include "children.h"
#include "protocol.h"
#include "record.h"
#include "server_socket.h"

extern char** environ;

namespace tsrun::cli {
namespace {

// What a foreground run passes on to its container (src/runtime/run.ts).
constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH};

struct Caller {
  std::vector<std::string> args;  // without argv[0]
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd;
  mode_t umask = 022;
  std::vector<int> fds;  // open when we started: the caller's
  sigset_t mask;         // the caller's signal mask, for what we start
};

std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return fds;
  int own = ::dirfd(d);
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int fd = std::atoi(e->d_name);
    if (fd != own) fds.push_back(fd);
  }
  ::closedir(d);
  return fds;
}

Caller gather(int argc, char** argv) {
  Caller c;
  c.fds = open_fds();
  for (int i = 0; i < argc; i++) c.argv.push_back(argv[i]);
  c.args.assign(c.argv.begin() + (argc > 0 ? 1 : 0), c.argv.end());
  for (char** e = environ; *e; e++) c.env.push_back(*e);
  char buf[4096];
  if (::getcwd(buf, sizeof(buf))) c.cwd = buf;
  c.umask = ::umask(0);
  ::umask(c.umask);
  ::sigprocmask(SIG_SETMASK, nullptr, &c.mask);
  return c;
}

class Session {
 public:
  Session(const Caller& c, int conn, int sigfd) : c_(c), conn_(conn), sigfd_(sigfd) {}

  enum class End { Exit, Cold, Stale, Lost };

  End run(int* code) {
    Out call;
    call.u32(static_cast<uint32_t>(Msg::Call)).u32(kProtocolVersion).u32(c_.umask).str(build_key()).str(c_.cwd).strs(c_.argv).strs(c_.env);
    call.u32(static_cast<uint32_t>(c_.fds.size()));
    for (int fd : c_.fds) call.u32(static_cast<uint32_t>(fd));
    if (call.bytes().size() > kMaxMessage) return End::Cold;  // the server could not take it whole
    if (!send_record(conn_, call.bytes(), c_.fds)) return End::Lost;
    for (;;) {
      struct pollfd p[2] = {{conn_, POLLIN, 0}, {sigfd_, POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return End::Lost;
      }
      if (p[1].revents & POLLIN) forward_signal();
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      std::string data;
      std::vector<int> fds;
      if (!recv_record(conn_, &data, &fds)) return End::Lost;
      In in(std::move(data));
      auto type = static_cast<Msg>(in.u32());
      switch (type) {
        case Msg::Spawn: spawn(in, fds); break;
        case Msg::Wait: wait(in); break;
        case Msg::Undo: undo_ = in.strs(); break;
        case Msg::DefaultSignal: die_of(in.i32()); break;
        case Msg::Exit:
          *code = in.i32();
          return End::Exit;
        case Msg::Cold: return End::Cold;
        case Msg::Stale: return End::Stale;
        default: break;
      }
      for (int fd : fds) ::close(fd);
    }
  }

  const std::vector<std::string>& undo() const { return undo_; }

 private:
  void spawn(In& in, std::vector<int>& fds) {
    uint32_t seq = in.u32();
    auto argv = in.strs();
    auto env = in.strs();
    auto slots = in.i32s();
    auto cgroup = in.str();  // a cgroup v2 directory to start it in; empty for none
    int result = -EBADMSG;
    if (in.ok() && !fds.empty()) {
      std::vector<int> placed;
      bool ok = true;
      for (int32_t s : slots) {
        if (s >= 0 && static_cast<size_t>(s) + 1 >= fds.size()) ok = false;
        placed.push_back(s < 0 ? -1 : fds[static_cast<size_t>(s) + 1]);
      }
      if (ok) {
        // tsrun-init, as the addon starts it: vfork-style, every signal blocked until it
        // resets them (or cloned into its cgroup, which this one-threaded client may fork
        // for); its CLONE_PARENT child, the container's init, is ours too.
        auto cargv = sys::c_strings(argv);
        auto cenv = sys::c_strings(env);
        sys::Spawned child;
        const char* failed = "";
        int err = 0;
        if (cgroup.empty()) {
          err = sys::spawn_executable(fds[0], cargv.data(), cenv.data(), placed, &child, &failed);
        } else {
          int dir = ::open(cgroup.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
          err = dir < 0 ? errno : sys::spawn_executable_in_cgroup(dir, fds[0], cargv.data(), cenv.data(), placed, &child, &failed);
          if (dir >= 0) ::close(dir);
        }
        result = err ? -err : child.pid;
        if (!err) pidfd_ = child.pidfd;
      }
    }
    std::vector<int> pidfd;
    if (result > 0) pidfd.push_back(pidfd_);
    Out reply;
    reply.u32(static_cast<uint32_t>(Msg::Spawned)).u32(seq).i32(result);
    send_record(conn_, reply.bytes(), pidfd);
    for (int fd : pidfd) ::close(fd);
  }

  // The server saw pid exit: reap it if it is ours, and say how it ended.
  void wait(In& in) {
    uint32_t seq = in.u32();
    int pid = in.i32();
    auto known = reaped_.find(pid);
    int status = 0;
    bool ours = known != reaped_.end();
    if (ours) {
      status = known->second;
    } else if (pid > 0) {
      for (int i = 0; i < 1000; i++) {  // it has exited; its zombie is there to take
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
          ours = true;
          reaped_[pid] = status;
          break;
        }
        if (r < 0 && errno != EINTR) break;
        ::usleep(1000);
      }
    }
    Out reply;
    reply.u32(static_cast<uint32_t>(Msg::Status)).u32(seq).i32(ours ? 1 : 0);
    reply.i32(ours && WIFEXITED(status) ? WEXITSTATUS(status) : 0).i32(ours && WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    send_record(conn_, reply.bytes(), {});
  }

  void forward_signal() {
    struct signalfd_siginfo si;
    while (::read(sigfd_, &si, sizeof(si)) == sizeof(si)) {
      Out msg;
      msg.u32(static_cast<uint32_t>(Msg::Signal)).i32(static_cast<int32_t>(si.ssi_signo));
      send_record(conn_, msg.bytes(), {});
    }
  }

  // Nobody in the call listens for signo: it does to us what it does to a process that
  // does not handle it (as it would to tsrun in Node, or to runc).
  void die_of(int signo) {
    if (signo == SIGCONT || signo == SIGWINCH) return;  // their default is to go on
    ::signal(signo, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(signo);
    ::_exit(128 + signo);
  }

  const Caller& c_;
  int conn_;
  int sigfd_;
  std::vector<std::string> undo_;
  std::map<int, int> reaped_;
  int pidfd_ = -1;
};

}  // namespace
}  // namespace tsrun::cli

int main(int argc, char** argv) {
  using namespace tsrun::cli;
  Caller caller = gather(argc, argv);
  const char* mode = ::getenv("TSRUN_SERVER");
  ServerPlace place;
  if ((mode && std::strcmp(mode, "0") == 0) || caller.cwd.empty() || caller.fds.size() > tsrun::sys::kMaxFds ||
      !server_place(&place)) {
    exec_cold(caller.args, caller.mask);
  }

  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int s : kForwarded) sigaddset(&forwarded, s);
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  int sigfd = ::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);

  for (int attempt = 0; attempt < 2; attempt++) {
    int conn = connect_server(place);
    if (conn < 0 && !parent_waits_for_orphans()) conn = start_server(place);
    if (conn < 0) break;
    Session session(caller, conn, sigfd);
    int code = 1;
    Session::End end = session.run(&code);
    ::close(conn);
    if (end == Session::End::Exit) return code;
    if (end == Session::End::Stale) continue;
    if (end == Session::End::Lost) {
      // The server died during the call: take back what it had begun, then run it ourselves.
      kill_children();
      if (!session.undo().empty()) run_cold(session.undo(), caller.mask);
    }
    break;
  }
  exec_cold(caller.args, caller.mask);
}

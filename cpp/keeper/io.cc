#include "io.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../sys/c_strings.h"
#include "../sys/scm.h"

namespace tsrun::keeper {
namespace {

constexpr size_t kChunk = 64 * 1024;
// How long a process's output may take to reach EOF after it exited (a process in the
// background may hold the pipe), and then to be written out.
constexpr int64_t kDrainMs = 2000;
constexpr int64_t kFlushMs = 10000;
// How long what was read may take to be written when the process is deleted.
constexpr int64_t kCloseFlushMs = 2000;
// How long a logging driver gets to finish after SIGTERM, as containerd's runc shim gives.
constexpr int64_t kDriverStopMs = 12000;

void close_fd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

void nonblock(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

bool readable_now(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

}  // namespace

// A destination: a file, the client's fifo (with a reader of ours held), a pipe (the
// logging driver's, stdin's) or the pty master. Copies into it wait for it together.
struct Io::Sink {
  Loop* loop;
  int fd = -1;
  int hold = -1;  // a fifo's reader of our own
  int users = 0;
  bool broken = false;  // writes fail: what comes is read and dropped
  bool watching = false;
  std::vector<Copy*> blocked;

  Sink(Loop* l, int f, int h, int u) : loop(l), fd(f), hold(h), users(u) { nonblock(fd); }
  ~Sink() { close_now(); }

  void wait_writable(Copy* c);
  void unblock(Copy* c);
  /** One user is done; the last one closes the destination. */
  void release() {
    if (--users <= 0) close_now();
  }
  void close_now() {
    if (watching) loop->remove(fd);
    watching = false;
    blocked.clear();
    close_fd(&fd);
    close_fd(&hold);
  }
};

// One copy from a source (a pipe's read end, the pty master, the stdin fifo) to a sink.
struct Io::Copy {
  Loop* loop;
  Set* set;
  int src;
  bool own_src;  // the pty master is the set's, not the copy's
  std::shared_ptr<Sink> dst;
  bool splice;
  std::string buf;
  size_t off = 0;
  bool eof = false;
  bool done = false;
  bool stopping = false;  // no more reading: only what is buffered goes out
  bool watching = false;

  Copy(Loop* l, Set* s, int source, bool owns, std::shared_ptr<Sink> sink, bool use_splice)
      : loop(l), set(s), src(source), own_src(owns), dst(std::move(sink)), splice(use_splice) {
    nonblock(src);
  }
  ~Copy() {
    watch(false);
    if (own_src) close_fd(&src);
  }

  void watch(bool on) {
    if (on == watching || src < 0) return;
    watching = on;
    if (on) {
      loop->add(src, EPOLLIN, [this](uint32_t) { pump(); });
    } else {
      loop->remove(src);
    }
  }
  void pump();
  void finish();
};

struct Io::Set {
  Io* io;
  uint32_t id = 0;
  bool terminal = false;
  std::vector<std::unique_ptr<Copy>> outputs;
  std::unique_ptr<Copy> stdin_copy;
  int stdin_src = -1;   // the stdin fifo's reader, until the master comes (terminal)
  int stdin_held = -1;  // a writer of ours: no EOF before CloseStdin
  int console = -1;     // our end of the console socketpair, until the master comes
  int master = -1;
  std::shared_ptr<Sink> terminal_sink;  // where the master's output goes
  bool sized = false;
  struct winsize size {};
  pid_t driver = -1;
  bool driver_exited = false;
  std::function<void()> driver_gone;
  bool closing = false;
  struct Waiter {
    std::function<void()> done;
    bool flushing = false;
  };
  std::vector<std::shared_ptr<Waiter>> waiters;

  ~Set() {
    outputs.clear();
    stdin_copy.reset();
    terminal_sink.reset();
    close_fd(&stdin_src);
    close_fd(&stdin_held);
    if (console >= 0) io->loop_->remove(console);
    close_fd(&console);
    close_fd(&master);
  }

  /** Every output source has reached EOF (a terminal's master must have come first). */
  bool outputs_eof() const {
    if (console >= 0) return false;
    for (const auto& c : outputs) {
      if (!c->eof) return false;
    }
    return true;
  }
  bool outputs_done() const {
    if (console >= 0) return false;
    for (const auto& c : outputs) {
      if (!c->done) return false;
    }
    return true;
  }

  void changed() {
    if (waiters.empty()) return;
    bool eof = outputs_eof();
    bool all = outputs_done();
    std::vector<std::shared_ptr<Waiter>> keep;
    std::vector<std::function<void()>> fire;
    for (auto& w : waiters) {
      if (all) {
        fire.push_back(std::move(w->done));
      } else {
        if (eof && !w->flushing) {
          w->flushing = true;
          auto weak = std::weak_ptr<Waiter>(w);
          io->loop_->after(kFlushMs, [this, weak] { give_up(weak); });
        }
        keep.push_back(w);
      }
    }
    waiters = std::move(keep);
    for (auto& f : fire) f();
  }

  void give_up(const std::weak_ptr<Waiter>& weak) {
    auto w = weak.lock();
    if (!w) return;
    for (auto it = waiters.begin(); it != waiters.end(); ++it) {
      if (*it == w) {
        waiters.erase(it);
        w->done();
        return;
      }
    }
  }

  void take_master();
  void hang_up();
};

void Io::Sink::wait_writable(Copy* c) {
  for (Copy* b : blocked) {
    if (b == c) return;
  }
  blocked.push_back(c);
  if (watching || fd < 0) return;
  watching = true;
  loop->add(fd, EPOLLOUT, [this](uint32_t) {
    loop->remove(fd);
    watching = false;
    std::vector<Copy*> ready;
    ready.swap(blocked);
    for (Copy* b : ready) b->pump();
  });
}

void Io::Sink::unblock(Copy* c) {
  for (auto it = blocked.begin(); it != blocked.end(); ++it) {
    if (*it == c) {
      blocked.erase(it);
      break;
    }
  }
  if (blocked.empty() && watching) {
    loop->remove(fd);
    watching = false;
  }
}

void Io::Copy::pump() {
  if (done) return;
  for (;;) {
    if (off < buf.size()) {
      if (dst->broken || dst->fd < 0) {
        buf.clear();
        off = 0;
        continue;
      }
      ssize_t n = ::write(dst->fd, buf.data() + off, buf.size() - off);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        watch(false);
        dst->wait_writable(this);
        return;
      }
      dst->broken = true;  // the destination is gone: what comes is dropped
      continue;
    }
    buf.clear();
    off = 0;
    if (eof || stopping) {
      finish();
      return;
    }
    if (splice && !dst->broken && dst->fd >= 0) {
      ssize_t n = ::splice(src, nullptr, dst->fd, nullptr, kChunk, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0) continue;
      if (n == 0) {
        eof = true;
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        if (readable_now(src)) {
          watch(false);
          dst->wait_writable(this);  // the destination is full
        } else {
          watch(true);
        }
        return;
      }
      if (errno == EINVAL) {
        splice = false;  // not between these two: read and write it is
        continue;
      }
      // The source or the destination failed: reading tells which.
      splice = false;
      continue;
    }
    buf.resize(kChunk);
    ssize_t n = ::read(src, buf.data(), buf.size());
    if (n > 0) {
      buf.resize(static_cast<size_t>(n));
      continue;
    }
    buf.clear();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      watch(true);
      return;
    }
    eof = true;  // 0; or EIO: a master whose slaves are all closed
  }
}

void Io::Copy::finish() {
  if (done) return;
  done = true;
  watch(false);
  dst->unblock(this);
  if (own_src) close_fd(&src);
  dst->release();
  if (set->terminal && set->stdin_copy.get() == this && !stopping) set->hang_up();
  set->changed();
}

void Io::Set::take_master() {
  std::vector<int> fds;
  bool truncated = false;
  char byte[256];
  ssize_t n = sys::recv_with_fds(console, byte, sizeof(byte), MSG_DONTWAIT, &fds, &truncated);
  if (n < 0 && errno == EAGAIN) return;
  io->loop_->remove(console);
  close_fd(&console);
  if (fds.empty()) {
    changed();  // the runtime went without sending one: there is no terminal output
    return;
  }
  master = fds[0];
  for (size_t i = 1; i < fds.size(); i++) ::close(fds[i]);
  nonblock(master);
  if (sized) ::ioctl(master, TIOCSWINSZ, &size);
  if (terminal_sink) outputs.push_back(std::make_unique<Copy>(io->loop_, this, master, false, terminal_sink, false));
  if (stdin_src >= 0) {
    int writer = ::fcntl(master, F_DUPFD_CLOEXEC, 3);
    auto sink = std::make_shared<Sink>(io->loop_, writer, -1, 1);
    stdin_copy = std::make_unique<Copy>(io->loop_, this, stdin_src, true, sink, false);
    stdin_src = -1;
  }
  if (!outputs.empty()) outputs.back()->pump();
  if (stdin_copy) stdin_copy->pump();
}

// Like containerd's runc shim: the end of a terminal's stdin hangs the terminal up.
void Io::Set::hang_up() {
  for (auto& c : outputs) {
    if (c->src == master) {
      c->stopping = true;
      c->eof = true;
      c->watch(false);
      c->src = -1;
    }
  }
  close_fd(&master);
  for (auto& c : outputs) c->pump();
}

Io::Io(Loop* loop, Reaper* reaper) : loop_(loop), reaper_(reaper) {}

Io::~Io() = default;

std::vector<uint32_t> Io::ids() const {
  std::vector<uint32_t> out;
  for (const auto& [id, s] : sets_) out.push_back(id);
  return out;
}

void Io::open(const wire::IoOpen& req, std::vector<int>* given, std::function<void(Opened)> done) {
  std::vector<int> fds;
  fds.swap(*given);
  size_t next = 0;
  auto take = [&]() { return next < fds.size() ? fds[next++] : -1; };
  // What we make for the process: its ends go with the reply (whoever sends it closes them).
  std::vector<int> process_ends;
  auto fail = [&](int err, const std::string& message) {
    for (size_t i = next; i < fds.size(); i++) ::close(fds[i]);
    for (int fd : process_ends) ::close(fd);
    Opened o;
    o.err = err;
    o.message = message;
    done(o);
  };
  if (req.io == 0 || sets_.count(req.io)) return fail(EEXIST, "io " + std::to_string(req.io) + " is taken");

  auto set = std::make_unique<Set>();
  set->io = this;
  set->id = req.io;
  set->terminal = req.terminal;
  Opened opened;
  opened.fds = {-1, -1, -1, -1};

  if (req.stdin) {
    int reader = take();
    set->stdin_held = take();
    if (reader < 0 || set->stdin_held < 0) return fail(EINVAL, "stdin: the fifo's fds are missing");
    if (req.terminal) {
      set->stdin_src = reader;  // copied into the master once it comes
    } else {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) < 0) return fail(errno, "pipe");
      opened.fds[0] = p[0];
      process_ends.push_back(p[0]);
      auto sink = std::make_shared<Sink>(loop_, p[1], -1, 1);
      set->stdin_copy = std::make_unique<Copy>(loop_, set.get(), reader, true, sink, true);
    }
  }

  auto sink_of = [&](wire::OutputKind kind, int users) -> std::shared_ptr<Sink> {
    if (kind == wire::OutputKind::File) return std::make_shared<Sink>(loop_, take(), -1, users);
    if (kind == wire::OutputKind::Fifo) {
      int writer = take();
      int hold = take();
      return std::make_shared<Sink>(loop_, writer, hold, users);
    }
    return nullptr;
  };
  auto pipe_into = [&](std::shared_ptr<Sink> sink, int slot) -> bool {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return false;
    opened.fds[slot] = p[1];
    process_ends.push_back(p[1]);
    set->outputs.push_back(std::make_unique<Copy>(loop_, set.get(), p[0], true, sink, true));
    return true;
  };

  int driver_out = -1;
  int driver_err = -1;
  if (req.stdout_kind == wire::OutputKind::Driver) {
    // The driver reads the pipes' read ends as fds 3 and 4 and says it is ready on fd 5.
    int out[2], err[2], ready[2];
    if (::pipe2(out, O_CLOEXEC) < 0) return fail(errno, "pipe");
    if (::pipe2(err, O_CLOEXEC) < 0 || ::pipe2(ready, O_CLOEXEC) < 0) {
      int e = errno;
      ::close(out[0]);
      ::close(out[1]);
      return fail(e, "pipe");
    }
    std::vector<std::string> argv_s = {req.driver.path};
    argv_s.insert(argv_s.end(), req.driver.args.begin(), req.driver.args.end());
    auto argv = sys::c_strings(argv_s);
    auto envp = sys::c_strings(req.driver.env);
    // A failed exec says why on this pipe; a good one closes it (close-on-exec).
    int status[2];
    if (::pipe2(status, O_CLOEXEC) < 0) status[0] = status[1] = -1;
    pid_t pid = ::fork();
    if (pid == 0) {
      int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      int moved[3] = {::fcntl(out[0], F_DUPFD_CLOEXEC, 10), ::fcntl(err[0], F_DUPFD_CLOEXEC, 10), ::fcntl(ready[1], F_DUPFD_CLOEXEC, 10)};
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::dup2(moved[0], 3);
      ::dup2(moved[1], 4);
      ::dup2(moved[2], 5);
      ::syscall(SYS_close_range, 6U, ~0U, 0U);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGPIPE, SIG_DFL);
      ::execve(argv[0], argv.data(), envp.data());
      int e = errno;
      if (status[1] >= 0) (void)!::write(status[1], &e, sizeof(e));
      ::_exit(127);
    }
    int fork_err = errno;
    ::close(out[0]);
    ::close(err[0]);
    ::close(ready[1]);
    int exec_err = 0;
    if (status[1] >= 0) ::close(status[1]);
    if (pid > 0 && status[0] >= 0) {
      ssize_t n;
      do {
        n = ::read(status[0], &exec_err, sizeof(exec_err));
      } while (n < 0 && errno == EINTR);
      if (n != sizeof(exec_err)) exec_err = 0;
    }
    if (status[0] >= 0) ::close(status[0]);
    if (pid < 0 || exec_err != 0) {
      ::close(out[1]);
      ::close(err[1]);
      ::close(ready[0]);
      if (pid < 0) return fail(fork_err, "fork the logging driver");
      return fail(exec_err, "logging driver " + req.driver.path + ": " + std::strerror(exec_err));
    }
    set->driver = pid;
    Set* s = set.get();
    reaper_->watch(pid, [s](const ExitStatus&) {
      s->driver_exited = true;
      if (s->driver_gone) {
        auto fn = std::move(s->driver_gone);
        s->driver_gone = nullptr;
        fn();
      }
    });
    driver_out = out[1];
    driver_err = err[1];
    // Ready: a byte on fd 5 (binary-v2:// needs one; binary:// may only close it).
    nonblock(ready[0]);
    struct Waiting {
      int fd;
      bool v2;
    };
    auto w = std::make_shared<Waiting>(Waiting{ready[0], req.driver.v2});
    auto finish_open = std::make_shared<std::function<void(bool)>>();
    std::string path = req.driver.path;
    Io* self = this;
    uint32_t id = req.io;
    auto done_shared = std::make_shared<std::function<void(Opened)>>(std::move(done));
    auto opened_shared = std::make_shared<Opened>(opened);
    auto ends_shared = std::make_shared<std::vector<int>>(process_ends);
    bool terminal = req.terminal;
    *finish_open = [self, id, w, done_shared, opened_shared, ends_shared, driver_out, driver_err, terminal, path](bool ok) {
      self->loop_->remove(w->fd);
      ::close(w->fd);
      auto it = self->sets_.find(id);
      if (!ok || it == self->sets_.end()) {
        if (it != self->sets_.end()) {
          Set* s = it->second.get();
          if (!s->driver_exited) ::kill(s->driver, SIGKILL);
          self->sets_.erase(it);
        }
        ::close(driver_out);
        ::close(driver_err);
        for (int fd : *ends_shared) ::close(fd);
        Opened o;
        o.err = EIO;
        o.message = "logging driver " + path + ": it closed fd 5 without writing the ready byte, or exited";
        (*done_shared)(o);
        return;
      }
      Set* s = it->second.get();
      Opened o = *opened_shared;
      if (terminal) {
        // The master's output goes into the driver's stdout; its stderr has nothing to carry.
        s->terminal_sink = std::make_shared<Sink>(self->loop_, driver_out, -1, 1);
        ::close(driver_err);
      } else {
        // The write ends go to the process alone: the driver sees EOF once it is done.
        o.fds[1] = driver_out;
        o.fds[2] = driver_err;
      }
      (*done_shared)(o);
    };
    sets_[req.io] = std::move(set);
    loop_->add(w->fd, EPOLLIN, [w, finish_open, self, id](uint32_t) {
      char c;
      ssize_t n = ::read(w->fd, &c, 1);
      if (n < 0 && errno == EAGAIN) return;
      auto it = self->sets_.find(id);
      bool exited = it == self->sets_.end() || it->second->driver_exited;
      (*finish_open)(n == 1 || (n == 0 && !w->v2 && !exited));
    });
    // The console socket pair must exist before the reply: made now, as for any terminal.
    Set* sp = sets_[req.io].get();
    if (terminal) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
        sp->console = sv[0];
        opened_shared->fds[3] = sv[1];
        ends_shared->push_back(sv[1]);
        loop_->add(sp->console, EPOLLIN, [sp](uint32_t) { sp->take_master(); });
      }
    }
    if (sp->stdin_copy) sp->stdin_copy->pump();
    return;
  }

  if (req.terminal) {
    set->terminal_sink = sink_of(req.stdout_kind, 1);
  } else {
    std::shared_ptr<Sink> out = sink_of(req.stdout_kind, req.stderr_kind == wire::OutputKind::Same ? 2 : 1);
    if (out && !pipe_into(out, 1)) return fail(errno, "pipe");
    std::shared_ptr<Sink> err = req.stderr_kind == wire::OutputKind::Same ? out : sink_of(req.stderr_kind, 1);
    if (err && !pipe_into(err, 2)) return fail(errno, "pipe");
  }
  if (req.terminal) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return fail(errno, "socketpair");
    set->console = sv[0];
    opened.fds[3] = sv[1];
    process_ends.push_back(sv[1]);
    Set* sp = set.get();
    loop_->add(set->console, EPOLLIN, [sp](uint32_t) { sp->take_master(); });
  }
  Set* s = set.get();
  sets_[req.io] = std::move(set);
  done(opened);
  for (auto& c : s->outputs) c->pump();
  if (s->stdin_copy) s->stdin_copy->pump();
}

void Io::resize(uint32_t io, uint32_t width, uint32_t height) {
  auto it = sets_.find(io);
  if (it == sets_.end()) return;
  Set* s = it->second.get();
  s->size.ws_col = static_cast<unsigned short>(width);
  s->size.ws_row = static_cast<unsigned short>(height);
  s->sized = true;
  if (s->master >= 0) ::ioctl(s->master, TIOCSWINSZ, &s->size);
}

void Io::close_stdin(uint32_t io) {
  auto it = sets_.find(io);
  if (it == sets_.end()) return;
  close_fd(&it->second->stdin_held);
}

void Io::drained(uint32_t io, std::function<void()> done) {
  auto it = sets_.find(io);
  if (it == sets_.end() || it->second->outputs_done()) {
    done();
    return;
  }
  Set* s = it->second.get();
  auto w = std::make_shared<Set::Waiter>();
  w->done = std::move(done);
  s->waiters.push_back(w);
  std::weak_ptr<Set::Waiter> weak = w;
  // A source still open after kDrainMs is held by something in the background: the exit
  // is not kept waiting for it.
  loop_->after(kDrainMs, [this, io, weak] {
    auto it = sets_.find(io);
    if (it == sets_.end()) return;
    auto w = weak.lock();
    if (w && !w->flushing && !it->second->outputs_eof()) it->second->give_up(weak);
  });
  s->changed();
}

void Io::close(uint32_t io, std::function<void()> done) {
  auto it = sets_.find(io);
  if (it == sets_.end() || it->second->closing) {
    done();
    return;
  }
  Set* s = it->second.get();
  s->closing = true;
  // Nothing more is read; what was read gets kCloseFlushMs to go out.
  if (s->stdin_copy) s->stdin_copy->stopping = true;
  for (auto& c : s->outputs) {
    c->stopping = true;
    c->watch(false);
    c->pump();
  }
  close_fd(&s->stdin_held);
  auto finish = [this, io, done]() {
    auto it = sets_.find(io);
    if (it == sets_.end()) return;
    Set* s = it->second.get();
    auto end = [this, io, done] {
      sets_.erase(io);
      done();
    };
    if (s->driver < 0 || s->driver_exited) {
      end();
      return;
    }
    // The driver's pipes close with the set; then it is asked to finish, and made to.
    pid_t driver = s->driver;
    s->outputs.clear();
    s->terminal_sink.reset();
    s->driver_gone = end;
    ::kill(driver, SIGTERM);
    loop_->after(kDriverStopMs, [this, io, driver] {
      auto it = sets_.find(io);
      if (it != sets_.end() && !it->second->driver_exited) ::kill(driver, SIGKILL);
    });
  };
  bool flushed = true;
  for (auto& c : s->outputs) flushed = flushed && c->done;
  if (flushed) {
    finish();
  } else {
    loop_->after(kCloseFlushMs, finish);
  }
}

}  // namespace tsrun::keeper

#include "keeper.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include "../shim/brain.h"
#include "../shim/common.h"
#include "channel.h"
#include "events.h"
#include "io.h"
#include "loop.h"
#include "processes.h"
#include "reaper.h"
#include "relay.h"
#include "wire.h"

namespace tsrun::keeper {
namespace {

constexpr int kListenFd = 3;
constexpr int kBrainFd = 4;
// How long a brain may take to welcome the group (a Node start on a loaded machine).
constexpr int64_t kWelcomeMs = 30000;
// How long the end of a group waits for the brain to close containerd's connections.
constexpr int64_t kEndMs = 5000;
// Brains that may close on the keeper before one takes the group, and the pause before the
// next (times the attempt).
constexpr int kAttachAttempts = 5;
constexpr int64_t kRetryMs = 100;

void log_line(const std::string& message) {
  shim::write_all(2, "containerd-shim-ts-v2 keeper[" + std::to_string(::getpid()) + "]: " + message + "\n");
}

class Keeper {
 public:
  explicit Keeper(const shim::Args& a)
      : args_(a),
        io_(&loop_, &reaper_),
        processes_(&reaper_, &io_, [this](const ExitStatus& e) { report(e); }),
        publisher_(&loop_, &reaper_, publisher_config(a), [](const std::string& m) { log_line(m); }) {
    group_.ns = a.ns;
    group_.id = a.id;
    group_.address = a.address;
    group_.publish_binary = a.publish_binary;
    group_.socket = a.socket;
    group_.debug = a.debug;
  }

  int run() {
    // Which file is our socket: it goes with the group, but never a successor's at the path.
    if (!args_.socket.empty() && ::stat(args_.socket.c_str(), &socket_file_) < 0) socket_file_ = {};
    if (!reaper_.start(&loop_)) {
      log_line(std::string("cannot reap the group's processes: ") + std::strerror(errno));
      return 1;
    }
    relay_ = std::make_unique<Relay>(&loop_, kListenFd,
                                     Relay::Callbacks{
                                         [this](uint32_t conn) { to_brain(wire::conn_opened(conn)); },
                                         [this](uint32_t conn, std::string_view f) { to_brain(wire::frame(conn, f)); },
                                         [this](uint32_t conn) { to_brain(wire::conn_ended(conn)); },
                                     });
    // Started without a brain (by hand): find one, or start it.
    int brain = ::fcntl(kBrainFd, F_GETFD) < 0 ? connect_brain() : kBrainFd;
    if (brain < 0) return 1;
    attach(brain);
    loop_.run();
    return exit_code_;
  }

 private:
  void attach(int fd) {
    brain_ = std::make_unique<Channel>(
        &loop_, fd, [this](std::string_view m, std::vector<int>& fds) { from_brain(m, fds); },
        [this] { brain_lost("the brain closed its channel"); });
    welcomed_ = false;
    int log = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
    std::vector<int> fds;
    if (log >= 0) fds.push_back(log);
    brain_->send(wire::hello(static_cast<uint32_t>(::getpid()), group_, relay_->connections(), log >= 0), std::move(fds));
    welcome_timer_ = loop_.after(kWelcomeMs, [this] { brain_lost("the brain did not take the group in time"); });
  }

  // The brain at our brain socket, started when none answers; -1 (logged) when none can be.
  int connect_brain() {
    shim::BrainLaunch launch;
    launch.log_fd = 2;  // its log until it takes a group's
    shim::BrainFound found;
    std::string error;
    int fd = shim::connect_brain(args_, shim::brain_socket(args_, args_.socket), launch, &found, &error);
    if (fd < 0) {
      log_line(error);
      return -1;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }

  // Until the brain has taken the group, what containerd sends waits here, in order.
  void to_brain(std::string message) {
    if (welcomed_ && brain_ && brain_->open()) {
      brain_->send(std::move(message));
    } else {
      held_.push_back(std::move(message));
    }
  }

  static Publisher::Config publisher_config(const shim::Args& a) {
    const char* ttrpc = ::getenv("TTRPC_ADDRESS");
    return Publisher::Config{ttrpc ? ttrpc : "", a.publish_binary, a.address, a.ns};
  }

  // An exit ready to report: to the brain now, or to the next one that attaches.
  void report(const ExitStatus& e) {
    if (welcomed_ && brain_ && brain_->open()) brain_->send(wire::exit(static_cast<uint32_t>(e.pid), e.code, e.signal, e.at_ns));
  }

  void reply(const wire::Reply& r, std::vector<int> fds = {}) {
    if (brain_ && brain_->open()) {
      brain_->send(wire::reply(r), std::move(fds));
    } else {
      for (int fd : fds) ::close(fd);
    }
  }

  void from_brain(std::string_view message, std::vector<int>& fds) {
    wire::BrainMessage m;
    if (!wire::decode(message, &m)) {
      log_line("an undecodable message from the brain");
      return;
    }
    uint32_t conn = 0;
    std::string_view data;
    switch (m.kind) {
      case wire::kBrainWelcome: {
        uint32_t version = 0;
        wire::decode_welcome(m.body, &version);
        welcomed_ = true;
        loop_.cancel(welcome_timer_);
        while (!held_.empty()) {
          brain_->send(std::move(held_.front()));
          held_.pop_front();
        }
        for (const ExitStatus& e : processes_.unacked()) report(e);
        break;
      }
      case wire::kBrainSpawn: {
        wire::Spawn req;
        if (!wire::decode_spawn(m.body, &req)) break;
        std::vector<int> out;
        wire::Reply r = processes_.spawn(req, &fds, &out);
        reply(r, std::move(out));
        break;
      }
      case wire::kBrainClaim: {
        wire::Claim req;
        if (!wire::decode_claim(m.body, &req)) break;
        std::vector<int> out;
        wire::Reply r = processes_.claim(req, &out);
        reply(r, std::move(out));
        break;
      }
      case wire::kBrainCommit: {
        wire::Commit c;
        if (!wire::decode_commit(m.body, &c)) {
          log_line("an undecodable commit from the brain");
          break;
        }
        for (uint32_t pid : c.acks) processes_.ack(pid);
        for (auto& e : c.events) publisher_.push(std::move(e));
        break;
      }
      case wire::kBrainIoOpen: {
        wire::IoOpen req;
        if (!wire::decode_io_open(m.body, &req)) break;
        uint64_t call = req.call;
        io_.open(req, &fds, [this, call](Io::Opened o) {
          wire::Reply r;
          r.call = call;
          r.err = o.err;
          r.message = o.message;
          std::vector<int> out;
          for (int fd : o.fds) {
            r.fds.push_back(fd < 0 ? -1 : static_cast<int32_t>(out.size()));
            if (fd >= 0) out.push_back(fd);
          }
          reply(r, std::move(out));
        });
        break;
      }
      case wire::kBrainIoClose: {
        uint64_t call = 0;
        uint32_t io = 0;
        if (!wire::decode_io_close(m.body, &call, &io)) break;
        io_.close(io, [this, call] {
          wire::Reply r;
          r.call = call;
          reply(r);
        });
        break;
      }
      case wire::kBrainResize: {
        uint32_t io = 0, width = 0, height = 0;
        if (wire::decode_resize(m.body, &io, &width, &height)) io_.resize(io, width, height);
        break;
      }
      case wire::kBrainCloseStdin: {
        uint32_t io = 0;
        if (wire::decode_close_stdin(m.body, &io)) io_.close_stdin(io);
        break;
      }
      case wire::kBrainFrame:
        if (wire::decode_conn(m.body, &conn, &data)) relay_->write(conn, data);
        break;
      case wire::kBrainCloseConn:
        if (wire::decode_conn(m.body, &conn)) relay_->close(conn);
        if (ending_) maybe_finish();
        break;
      case wire::kBrainEnd:
        end();
        break;
      default:
        break;  // a later brain's message this keeper does not know
    }
  }

  // The group is over: no new connection can reach us, and we go once the brain has
  // closed the ones there are.
  void end() {
    if (ending_) return;
    ending_ = true;
    remove_socket();
    relay_->stop_accepting();
    publisher_.flush(kEndMs, [this](bool all) {
      if (!all) log_line("exiting with " + std::to_string(publisher_.pending()) + " events undelivered");
      flushed_ = true;
      maybe_finish();
    });
    loop_.after(kEndMs, [this] { finish(0); });
  }

  // Ending: gone once containerd's connections are closed and the events are out.
  void maybe_finish() {
    if ((relay_->size() == 0 || brain_gone_) && flushed_) finish(0);
  }

  void brain_lost(const std::string& why) {
    if (ending_) {
      brain_gone_ = true;  // nobody is left to close containerd's connections
      maybe_finish();
      return;
    }
    loop_.cancel(welcome_timer_);
    // A brain that never took the group knew nothing of it: the next one takes it, as a
    // brain on its way out (its last group just ended) closes the connections waiting in
    // its backlog, ours among them.
    if (!welcomed_ && attempts_ < kAttachAttempts) {
      attempts_++;
      // (The closed channel goes when attach() replaces it: not here, inside its callback.)
      loop_.after(kRetryMs * attempts_, [this] {
        int fd = connect_brain();
        if (fd < 0) {
          brain_lost("no brain could be reached or started");
          return;
        }
        attach(fd);
      });
      return;
    }
    // Until a brain can take a group over (its state is the brain's own), the group goes
    // with its brain, as it did when one process did both: containerd sees its connections
    // close and cleans up through `delete`.
    log_line(why + "; the group ends");
    finish(1);
  }

  // The group's socket file goes with the group, however it ends: a `start` for the group
  // then makes a new one (containerd's `delete` would remove a dead one too, later).
  void remove_socket() {
    struct stat now {};
    if (args_.socket.empty() || ::stat(args_.socket.c_str(), &now) < 0) return;
    if (now.st_ino != socket_file_.st_ino || now.st_dev != socket_file_.st_dev || now.st_ctim.tv_sec != socket_file_.st_ctim.tv_sec ||
        now.st_ctim.tv_nsec != socket_file_.st_ctim.tv_nsec) {
      return;
    }
    ::unlink(args_.socket.c_str());
  }

  void finish(int code) {
    remove_socket();
    exit_code_ = code;
    loop_.stop();
  }

  shim::Args args_;
  wire::Group group_;
  Loop loop_;
  Reaper reaper_;
  Io io_;
  Processes processes_;
  Publisher publisher_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<Channel> brain_;
  std::deque<std::string> held_;
  bool welcomed_ = false;
  bool ending_ = false;
  bool flushed_ = false;
  bool brain_gone_ = false;
  int attempts_ = 0;
  uint64_t welcome_timer_ = 0;
  int exit_code_ = 0;
  struct stat socket_file_ {};
};

}  // namespace

int run_keeper(const shim::Args& args) {
  ::signal(SIGPIPE, SIG_IGN);
  // Nothing of ours may outlive the keeper in an fd it hands a child.
  for (int fd : {kListenFd, kBrainFd}) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) continue;
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  Keeper keeper(args);
  return keeper.run();
}

}  // namespace tsrun::keeper

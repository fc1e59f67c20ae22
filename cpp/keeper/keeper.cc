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
#include "../shim/proto.h"
#include "../shim/spare.h"
#include "../shim/ttrpc_frame.h"
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
// The pause before looking for the next brain: doubled at each failure, up to the most.
constexpr int64_t kRetryMs = 100;
constexpr int64_t kRetryMaxMs = 2000;
// How long a request waits for a brain to answer it before it is answered Unavailable.
constexpr int64_t kNoBrainMs = 60000;
// How long a retiring brain gets to answer what it was answering.
constexpr int64_t kRetireMs = 30000;

void log_line(const std::string& message) {
  shim::write_all(2, "containerd-shim-ts-v2 keeper[" + std::to_string(::getpid()) + "]: " + message + "\n");
}

bool debugging = false;

void debug_line(const std::string& message) {
  if (debugging) log_line(message);
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
                                         [this](uint32_t conn) { to_brain(Held{wire::conn_opened(conn), conn, {}, now_ms()}); },
                                         [this](uint32_t conn, std::string_view f) { to_brain(Held{wire::frame(conn, f), conn, std::string(f), now_ms()}); },
                                         [this](uint32_t conn) { to_brain(Held{wire::conn_ended(conn), conn, {}, now_ms()}); },
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
    brain_->send(wire::hello(static_cast<uint32_t>(::getpid()), group_, relay_->connections(), log >= 0, records_), std::move(fds));
    debug_line("hello to a brain, with " + std::to_string(records_.size()) + " journal lines");
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
    // As `start` does after it had a brain started: the next one to start finds a spare
    // (started once the group is taken over, not beside the takeover).
    spare_wanted_ = found != shim::BrainFound::Running && shim::spares_enabled();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }

  // What containerd sent: a connection opened or ended, or a frame (with its connection,
  // and the frame itself, for the request to be known in flight).
  struct Held {
    std::string message;
    uint32_t conn = 0;
    std::string frame;
    int64_t at = now_ms();
  };

  // Until a brain has taken the group, what containerd sends waits here, in order.
  void to_brain(Held h) {
    if (welcomed_ && !retiring_ && brain_ && brain_->open()) {
      send_held(std::move(h));
    } else {
      held_.push_back(std::move(h));
      watch_held();
    }
  }

  void send_held(Held h) {
    if (!h.frame.empty()) relay_->sent(h.conn, h.frame);
    brain_->send(std::move(h.message));
  }

  // A request no brain answers within kNoBrainMs is answered Unavailable: never a hang.
  void watch_held() {
    if (held_timer_ != 0) return;
    held_timer_ = loop_.after(1000, [this] {
      held_timer_ = 0;
      if (welcomed_) return;
      int64_t cutoff = now_ms() - kNoBrainMs;
      for (auto it = held_.begin(); it != held_.end();) {
        ttrpc::Header h{};
        if (!it->frame.empty()) h = ttrpc::header_of(it->frame.data());
        if (it->at < cutoff && !it->frame.empty() && h.type == ttrpc::kTypeRequest) {
          relay_->write(it->conn, ttrpc::frame(h.stream, ttrpc::kTypeResponse,
                                               shim::proto::error_response(ttrpc::kCodeUnavailable, "no shim brain answers: " + why_)));
          it = held_.erase(it);
        } else {
          ++it;
        }
      }
      if (!held_.empty()) watch_held();
    });
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
        debug_line("welcomed");
        retry_ms_ = kRetryMs;
        loop_.cancel(welcome_timer_);
        while (!held_.empty()) {
          send_held(std::move(held_.front()));
          held_.pop_front();
        }
        for (const ExitStatus& e : processes_.unacked()) report(e);
        if (spare_wanted_) shim::ensure_spare(args_);
        spare_wanted_ = false;
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
        for (auto& [key, value] : c.records) records_[key] = std::move(value);
        for (const auto& key : c.forget) records_.erase(key);
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
        if (retiring_) leave_if_done();
        break;
      case wire::kBrainRetire:
        debug_line("the brain retires");
        retiring_ = true;
        retire_timer_ = loop_.after(kRetireMs, [this] { leave(); });
        leave_if_done();
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
    debug_line("the group ends");
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

  // A retiring brain is left once it has answered what may not run again elsewhere.
  void leave_if_done() {
    if (relay_->unrepeatable_in_flight() == 0) leave();
  }

  void leave() {
    if (!retiring_) return;
    loop_.cancel(retire_timer_);
    brain_lost("the brain retired");
    // Gone from it now: it exits once its keepers have all left.
    if (brain_) brain_->close();
  }

  void brain_lost(const std::string& why) {
    if (ending_) {
      brain_gone_ = true;  // nobody is left to close containerd's connections
      maybe_finish();
      return;
    }
    loop_.cancel(welcome_timer_);
    if (retry_timer_ != 0) return;  // one loss, told twice (a timeout, then the close)
    why_ = why;
    retiring_ = false;
    loop_.cancel(retire_timer_);
    bool was_welcomed = welcomed_;
    if (welcomed_) {
      // What it was answering: the requests that may run again wait for the next brain,
      // ahead of what came since; the others are told their outcome is unknown.
      log_line(why + "; the group waits for the next brain");
      auto again = relay_->brain_gone(ttrpc::kCodeUnknown,
                                      "the shim's brain went away while answering: whether the request took effect is unknown");
      for (auto it = again.rbegin(); it != again.rend(); ++it) held_.push_front(Held{wire::frame(it->first, it->second), it->first, it->second, now_ms()});
      welcomed_ = false;
      watch_held();
    }
    if (!welcomed_) debug_line(why + " before taking the group; looking for the next brain");
    // A brain that had the group is gone for sure: its successor is looked for at once.
    int64_t delay = was_welcomed ? 0 : retry_ms_;
    // (The closed channel goes when attach() replaces it: not here, inside its callback.)
    retry_timer_ = loop_.after(delay, [this] {
      retry_timer_ = 0;
      int fd = connect_brain();
      if (fd < 0) {
        retry_ms_ = retry_ms_ * 2 > kRetryMaxMs ? kRetryMaxMs : retry_ms_ * 2;
        brain_lost("no brain could be reached or started");
        return;
      }
      attach(fd);
    });
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
  std::deque<Held> held_;
  wire::Records records_;
  std::string why_;
  int64_t retry_ms_ = kRetryMs;
  uint64_t retry_timer_ = 0;
  uint64_t held_timer_ = 0;
  bool welcomed_ = false;
  bool spare_wanted_ = false;
  bool ending_ = false;
  bool flushed_ = false;
  bool brain_gone_ = false;
  bool retiring_ = false;
  uint64_t retire_timer_ = 0;
  uint64_t welcome_timer_ = 0;
  int exit_code_ = 0;
  struct stat socket_file_ {};
};

}  // namespace

int run_keeper(const shim::Args& args) {
  debugging = args.debug;
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

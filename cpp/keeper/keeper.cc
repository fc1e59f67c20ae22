#include "keeper.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include "../shim/brain.h"
#include "../shim/common.h"
#include "channel.h"
#include "loop.h"
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
  explicit Keeper(const shim::Args& a) : args_(a) {
    group_.ns = a.ns;
    group_.id = a.id;
    group_.address = a.address;
    group_.publish_binary = a.publish_binary;
    group_.socket = a.socket;
    group_.debug = a.debug;
  }

  int run() {
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

  void from_brain(std::string_view message, std::vector<int>&) {
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
        break;
      }
      case wire::kBrainFrame:
        if (wire::decode_conn(m.body, &conn, &data)) relay_->write(conn, data);
        break;
      case wire::kBrainCloseConn:
        if (wire::decode_conn(m.body, &conn)) relay_->close(conn);
        if (ending_ && relay_->size() == 0) finish(0);
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
    if (!args_.socket.empty()) ::unlink(args_.socket.c_str());
    relay_->stop_accepting();
    if (relay_->size() == 0) {
      finish(0);
      return;
    }
    loop_.after(kEndMs, [this] { finish(0); });
  }

  void brain_lost(const std::string& why) {
    if (ending_) {
      finish(0);
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

  void finish(int code) {
    exit_code_ = code;
    loop_.stop();
  }

  shim::Args args_;
  wire::Group group_;
  Loop loop_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<Channel> brain_;
  std::deque<std::string> held_;
  bool welcomed_ = false;
  bool ending_ = false;
  int attempts_ = 0;
  uint64_t welcome_timer_ = 0;
  int exit_code_ = 0;
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

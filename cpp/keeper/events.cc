#include "events.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../shim/proto.h"
#include "../shim/ttrpc_frame.h"
#include "../sys/c_strings.h"

extern char** environ;

namespace tsrun::keeper {
namespace {

constexpr int64_t kMinBackoffMs = 50;
constexpr int64_t kMaxBackoffMs = 2000;
constexpr int64_t kForwardTimeoutMs = 5000;
constexpr const char* kEventsService = "containerd.services.events.ttrpc.v1.Events";

// google.rpc codes after which the same envelope can never be taken.
bool final_code(int code) { return code == 3 || code == 5 || code == 6 || code == 7 || code == 12; }

}  // namespace

Publisher::Publisher(Loop* loop, Reaper* reaper, Config config, Log log)
    : loop_(loop), reaper_(reaper), config_(std::move(config)), log_(std::move(log)), backoff_ms_(kMinBackoffMs) {}

Publisher::~Publisher() {
  drop_connection();
  loop_->cancel(timer_);
}

void Publisher::push(wire::Event event) {
  queue_.push_back(std::move(event));
  next();
}

void Publisher::flush(int64_t ms, std::function<void(bool)> done) {
  if (queue_.empty()) {
    done(true);
    return;
  }
  auto id = std::make_shared<uint64_t>(0);
  *id = loop_->after(ms, [this, id] {
    for (auto it = flushes_.begin(); it != flushes_.end(); ++it) {
      if (it->first != *id) continue;
      auto fn = std::move(it->second);
      flushes_.erase(it);
      fn(false);
      return;
    }
  });
  flushes_.emplace_back(*id, std::move(done));
}

void Publisher::next() {
  if (busy_ || queue_.empty()) return;
  busy_ = true;
  if (config_.ttrpc_address.empty()) {
    publish_binary();
  } else {
    forward();
  }
}

void Publisher::delivered() {
  queue_.pop_front();
  busy_ = false;
  backoff_ms_ = kMinBackoffMs;
  if (queue_.empty()) {
    auto waiting = std::move(flushes_);
    flushes_.clear();
    for (auto& [timer, done] : waiting) {
      loop_->cancel(timer);
      done(true);
    }
  }
  next();
}

void Publisher::failed(const std::string& why) {
  (void)why;  // a containerd that is restarting is not news: the retry says nothing
  busy_ = false;
  int64_t wait = backoff_ms_;
  backoff_ms_ = backoff_ms_ * 2 > kMaxBackoffMs ? kMaxBackoffMs : backoff_ms_ * 2;
  timer_ = loop_->after(wait, [this] { next(); });
}

void Publisher::forward() {
  if (sock_ < 0) {
    struct sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (config_.ttrpc_address.size() >= sizeof(addr.sun_path)) {
      failed("address too long");
      return;
    }
    std::memcpy(addr.sun_path, config_.ttrpc_address.c_str(), config_.ttrpc_address.size() + 1);
    sock_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sock_ < 0 || ::connect(sock_, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0) {
      int e = errno;
      drop_connection();
      failed(std::strerror(e));
      return;
    }
    stream_ = 1;
    in_.clear();
    loop_->add(sock_, EPOLLIN, [this](uint32_t e) { on_socket(e); });
  }
  const wire::Event& e = queue_.front();
  std::string request = shim::proto::request(kEventsService, "Forward", e.forward, kForwardTimeoutMs * 1000000);
  out_ = ttrpc::frame(stream_, ttrpc::kTypeRequest, request);
  out_off_ = 0;
  loop_->modify(sock_, EPOLLIN | EPOLLOUT);
  timer_ = loop_->after(kForwardTimeoutMs, [this] {
    drop_connection();
    failed("timed out");
  });
}

void Publisher::on_socket(uint32_t events) {
  if (events & EPOLLOUT) {
    while (out_off_ < out_.size()) {
      ssize_t n = ::send(sock_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        out_off_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      loop_->cancel(timer_);
      drop_connection();
      failed("send");
      return;
    }
    if (out_off_ == out_.size()) loop_->modify(sock_, EPOLLIN);
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  for (;;) {
    char buf[4096];
    ssize_t n = ::recv(sock_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n <= 0) {
      bool waiting = busy_;
      loop_->cancel(timer_);
      drop_connection();
      if (waiting) failed("connection closed");
      return;
    }
    in_.append(buf, static_cast<size_t>(n));
    while (in_.size() >= ttrpc::kHeader) {
      ttrpc::Header h = ttrpc::header_of(in_.data());
      if (h.length > ttrpc::kMaxData) {
        loop_->cancel(timer_);
        drop_connection();
        failed("oversized answer");
        return;
      }
      if (in_.size() < ttrpc::kHeader + h.length) break;
      std::string data = in_.substr(ttrpc::kHeader, h.length);
      in_.erase(0, ttrpc::kHeader + h.length);
      if (h.type == ttrpc::kTypeResponse && h.stream == stream_ && busy_) {
        stream_ += 2;
        loop_->cancel(timer_);
        on_answer(data);
        if (sock_ < 0) return;
      }
    }
  }
}

void Publisher::on_answer(const std::string& data) {
  shim::proto::Response r;
  if (!shim::proto::decode_response(data, &r)) {
    drop_connection();
    failed("undecodable answer");
    return;
  }
  if (r.code != 0 && final_code(r.code)) {
    log_("dropping event " + queue_.front().topic + ": containerd refused it: " + r.message);
  } else if (r.code != 0) {
    failed(r.message);
    return;
  }
  delivered();
}

void Publisher::drop_connection() {
  if (sock_ < 0) return;
  loop_->remove(sock_);
  ::close(sock_);
  sock_ = -1;
}

// The old way, for a containerd that sets no TTRPC_ADDRESS: `<publish-binary> --address
// <address> publish --topic <topic> --namespace <ns>` with the event's Any on stdin.
void Publisher::publish_binary() {
  const wire::Event& e = queue_.front();
  std::vector<std::string> args = {config_.publish_binary, "--address", config_.address, "publish", "--topic", e.topic, "--namespace", config_.ns};
  auto argv = sys::c_strings(args);
  int in[2];
  if (::pipe2(in, O_CLOEXEC) < 0) {
    failed(std::strerror(errno));
    return;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(in[0], 0);
    ::dup2(null, 1);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  ::close(in[0]);
  if (pid < 0) {
    ::close(in[1]);
    failed(std::strerror(errno));
    return;
  }
  // An Any is small: the pipe takes it whole.
  size_t off = 0;
  while (off < e.any.size()) {
    ssize_t n = ::write(in[1], e.any.data() + off, e.any.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(in[1]);
  reaper_->watch(pid, [this](const ExitStatus& x) {
    if (x.code == 0 && x.signal == 0) {
      delivered();
    } else {
      failed("publish exited with " + std::to_string(x.code ? x.code : 128 + x.signal));
    }
  });
}

}  // namespace tsrun::keeper

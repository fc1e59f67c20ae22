#include "relay.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "../shim/pb.h"
#include "../shim/proto.h"
#include "../shim/ttrpc_frame.h"

namespace tsrun::keeper {
namespace {

// The calls that only read, or whose second run changes nothing: a new brain may answer
// them again.
bool replayable(std::string_view frame) {
  std::string_view service, method;
  bool ok = pb::each_field(frame.substr(ttrpc::kHeader), [&](const pb::Field& f) {
    if (f.number == 1 && f.type == pb::kBytes) service = f.bytes;
    if (f.number == 2 && f.type == pb::kBytes) method = f.bytes;
  });
  if (!ok) return false;
  if (service == "containerd.task.v2.Task") {
    return method == "State" || method == "Wait" || method == "Pids" || method == "Stats" || method == "Connect" ||
           method == "Shutdown" || method == "ResizePty" || method == "CloseIO";
  }
  // tsrun's delete asking the shim to clean up: done twice, it is done.
  return service == "tsrun.shim.v1.Shim" && method == "Cleanup";
}

}  // namespace

Relay::Relay(Loop* loop, int listen_fd, Callbacks callbacks) : loop_(loop), listen_fd_(listen_fd), cb_(std::move(callbacks)) {
  if (listen_fd_ >= 0) loop_->add(listen_fd_, EPOLLIN, [this](uint32_t) { accept_all(); });
}

Relay::~Relay() {
  stop_accepting();
  for (auto& [id, c] : conns_) {
    loop_->remove(c.fd);
    ::close(c.fd);
  }
}

void Relay::stop_accepting() {
  if (listen_fd_ < 0) return;
  loop_->remove(listen_fd_);
  ::close(listen_fd_);
  listen_fd_ = -1;
}

std::vector<uint32_t> Relay::connections() const {
  std::vector<uint32_t> out;
  for (const auto& [id, c] : conns_) out.push_back(id);
  return out;
}

void Relay::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN; or EMFILE and the like: containerd's connect waits in the backlog
    }
    uint32_t id = next_id_++;
    Conn& c = conns_[id];
    c.fd = fd;
    watch(id, &c);
    cb_.opened(id);
  }
}

void Relay::on_events(uint32_t id, uint32_t events) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn* c = &it->second;
  if (events & EPOLLOUT) {
    flush(id, c);
    it = conns_.find(id);
    if (it == conns_.end()) return;
  }
  if (!c->ended && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) read_some(id, c);
}

void Relay::read_some(uint32_t id, Conn* c) {
  for (;;) {
    char buf[65536];
    ssize_t n = ::read(c->fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      c->ended = true;
      watch(id, c);
      cb_.ended(id);
      return;
    }
    size_t off = 0;
    if (c->skip > 0) {
      off = c->skip < uint64_t(n) ? static_cast<size_t>(c->skip) : static_cast<size_t>(n);
      c->skip -= off;
    }
    c->in.append(buf + off, static_cast<size_t>(n) - off);
    if (!cut_frames(id)) return;
  }
}

bool Relay::cut_frames(uint32_t id) {
  size_t pos = 0;
  // Looked up again after each frame: a callback may have closed the connection.
  for (auto it = conns_.find(id); it != conns_.end(); it = conns_.find(id)) {
    Conn* c = &it->second;
    if (c->in.size() - pos < ttrpc::kHeader) {
      c->in.erase(0, pos);
      return true;
    }
    ttrpc::Header h = ttrpc::header_of(c->in.data() + pos);
    if (h.length > ttrpc::kMaxData) {
      std::string status = "message length " + std::to_string(h.length) + " exceed maximum message size of " +
                           std::to_string(ttrpc::kMaxData);
      write(id, ttrpc::frame(h.stream, ttrpc::kTypeResponse,
                             shim::proto::error_response(ttrpc::kCodeResourceExhausted, status)));
      it = conns_.find(id);
      if (it == conns_.end()) return false;
      c = &it->second;
      size_t have = c->in.size() - pos - ttrpc::kHeader;
      size_t take = have < h.length ? have : h.length;
      c->skip = h.length - take;
      pos += ttrpc::kHeader + take;
      continue;
    }
    if (c->in.size() - pos - ttrpc::kHeader < h.length) {
      c->in.erase(0, pos);
      return true;
    }
    size_t at = pos;
    pos += ttrpc::kHeader + h.length;
    cb_.frame(id, std::string_view(c->in).substr(at, ttrpc::kHeader + h.length));
  }
  return false;
}

void Relay::write(uint32_t id, std::string_view data) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn* c = &it->second;
  // The brain writes whole frames: each answer ends its request's flight.
  for (size_t pos = 0; data.size() - pos >= ttrpc::kHeader;) {
    ttrpc::Header h = ttrpc::header_of(data.data() + pos);
    if (h.type == ttrpc::kTypeResponse) c->in_flight.erase(h.stream);
    pos += ttrpc::kHeader + h.length;
  }
  c->out.append(data.data(), data.size());
  flush(id, c);
}

void Relay::sent(uint32_t id, std::string_view frame) {
  auto it = conns_.find(id);
  if (it == conns_.end() || frame.size() < ttrpc::kHeader) return;
  ttrpc::Header h = ttrpc::header_of(frame.data());
  if (h.type != ttrpc::kTypeRequest) return;
  it->second.in_flight[h.stream] = replayable(frame) ? std::string(frame) : std::string();
}

size_t Relay::unrepeatable_in_flight() const {
  size_t n = 0;
  for (const auto& [id, c] : conns_) {
    for (const auto& [stream, frame] : c.in_flight) n += frame.empty() ? 1 : 0;
  }
  return n;
}

std::vector<std::pair<uint32_t, std::string>> Relay::brain_gone(int code, const std::string& message) {
  std::vector<std::pair<uint32_t, std::string>> again;
  std::vector<std::pair<uint32_t, uint32_t>> failed;
  for (auto& [id, c] : conns_) {
    for (auto f = c.in_flight.begin(); f != c.in_flight.end();) {
      if (!f->second.empty()) {
        again.emplace_back(id, f->second);
        ++f;
      } else {
        failed.emplace_back(id, f->first);
        f = c.in_flight.erase(f);
      }
    }
  }
  for (auto [id, stream] : failed) write(id, ttrpc::frame(stream, ttrpc::kTypeResponse, shim::proto::error_response(code, message)));
  return again;
}

void Relay::close(uint32_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  it->second.closing = true;
  flush(id, &it->second);
}

void Relay::flush(uint32_t id, Conn* c) {
  while (c->out_off < c->out.size()) {
    ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      // containerd is gone from this connection: what it will never read goes.
      c->out.clear();
      c->out_off = 0;
      break;
    }
    c->out_off += static_cast<size_t>(n);
  }
  if (c->out_off == c->out.size()) {
    c->out.clear();
    c->out_off = 0;
  }
  if (c->closing && c->out.empty()) {
    drop(id);
    return;
  }
  watch(id, c);
}

void Relay::watch(uint32_t id, Conn* c) {
  uint32_t events = c->ended ? 0 : (EPOLLIN | EPOLLRDHUP);
  if (!c->out.empty()) events |= EPOLLOUT;
  // Nothing to wait for: out of the set, or a hung-up socket would wake us for ever.
  if (events == 0) {
    loop_->remove(c->fd);
  } else if (!loop_->watching(c->fd)) {
    loop_->add(c->fd, events, [this, id](uint32_t e) { on_events(id, e); });
  } else {
    loop_->modify(c->fd, events);
  }
}

void Relay::drop(uint32_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  loop_->remove(it->second.fd);
  ::close(it->second.fd);
  conns_.erase(it);
}

}  // namespace tsrun::keeper

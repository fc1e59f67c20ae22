#include "channel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "../shim/ttrpc_frame.h"
#include "../sys/scm.h"

namespace tsrun::keeper {
namespace {

constexpr size_t kHeader = 8;
// A ttrpc frame (4 MiB of data and its header) and its envelope, with room to spare.
constexpr uint32_t kMaxMessage = 8u << 20;
using sys::kMaxFds;

void close_all(std::vector<int>* fds) {
  for (int fd : *fds) ::close(fd);
  fds->clear();
}

}  // namespace

Channel::Channel(Loop* loop, int fd, OnMessage on_message, OnClose on_close)
    : loop_(loop), fd_(fd), on_message_(std::move(on_message)), on_close_(std::move(on_close)) {
  if (!loop_->add(fd_, EPOLLIN, [this](uint32_t e) { on_events(e); })) fd_ = -1;
}

Channel::~Channel() { close(); }

void Channel::close() {
  if (fd_ >= 0) {
    loop_->remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  for (int fd : in_fds_) ::close(fd);
  in_fds_.clear();
  for (auto& o : out_) close_all(&o.fds);
  out_.clear();
  queued_ = 0;
}

void Channel::fail() {
  close();
  if (on_close_) on_close_();
}

void Channel::send(std::string message, std::vector<int> fds) {
  if (fd_ < 0 || write_broken_ || fds.size() > kMaxFds) {
    close_all(&fds);
    return;
  }
  Out o;
  o.data.reserve(kHeader + message.size());
  ttrpc::put_be32(&o.data, static_cast<uint32_t>(message.size()));
  ttrpc::put_be32(&o.data, static_cast<uint32_t>(fds.size()));
  o.data += message;
  o.fds = std::move(fds);
  queued_ += o.data.size();
  bool idle = out_.empty();
  out_.push_back(std::move(o));
  if (idle) write_some();
}

void Channel::watch() {
  if (fd_ >= 0) loop_->modify(fd_, out_.empty() ? uint32_t(EPOLLIN) : uint32_t(EPOLLIN | EPOLLOUT));
}

void Channel::on_events(uint32_t events) {
  if (events & EPOLLOUT) write_some();
  if (fd_ >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) read_some();
}

void Channel::write_some() {
  while (fd_ >= 0 && !out_.empty()) {
    Out& o = out_.front();
    ssize_t n = sys::send_with_fds(fd_, o.data.data() + o.off, o.data.size() - o.off, o.off == 0 ? o.fds.data() : nullptr,
                                   o.off == 0 ? o.fds.size() : 0, MSG_DONTWAIT);
    if (n > 0) close_all(&o.fds);  // the brain has its own copies now
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      // The brain has closed its end. What it sent before that is still to be read (its
      // last words: a group's End): the reader finds the end of it, and the channel fails
      // then, not now.
      for (auto& q : out_) close_all(&q.fds);
      out_.clear();
      queued_ = 0;
      write_broken_ = true;
      break;
    }
    o.off += static_cast<size_t>(n);
    queued_ -= static_cast<size_t>(n);
    if (o.off == o.data.size()) out_.pop_front();
  }
  watch();
}

void Channel::read_some() {
  for (;;) {
    char buf[65536];
    std::vector<int> got;
    bool truncated = false;
    ssize_t n = sys::recv_with_fds(fd_, buf, sizeof(buf), MSG_DONTWAIT, &got, &truncated);
    in_fds_.insert(in_fds_.end(), got.begin(), got.end());
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0 || truncated) {
      fail();
      return;
    }
    in_.append(buf, static_cast<size_t>(n));
    // Whole messages, in order; each one's fds arrived no later than its first byte.
    size_t pos = 0;
    while (in_.size() - pos >= kHeader) {
      uint32_t len = ttrpc::get_be32(in_.data() + pos);
      uint32_t nfds = ttrpc::get_be32(in_.data() + pos + 4);
      if (len > kMaxMessage || nfds > kMaxFds) {
        fail();
        return;
      }
      if (in_.size() - pos - kHeader < len) break;
      if (in_fds_.size() < nfds) {
        fail();
        return;
      }
      std::vector<int> fds(in_fds_.begin(), in_fds_.begin() + nfds);
      in_fds_.erase(in_fds_.begin(), in_fds_.begin() + nfds);
      std::string message = in_.substr(pos + kHeader, len);
      pos += kHeader + len;
      on_message_(message, fds);
      close_all(&fds);  // whatever the handler did not take
      if (fd_ < 0) return;  // the handler closed us
    }
    in_.erase(0, pos);
  }
}

}  // namespace tsrun::keeper

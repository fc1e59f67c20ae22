#include "loop.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace tsrun::keeper {

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Loop::Loop() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {}

Loop::~Loop() {
  if (epfd_ >= 0) ::close(epfd_);
}

bool Loop::add(int fd, uint32_t events, Handler handler) {
  struct epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) return false;
  handlers_[fd] = std::make_shared<Handler>(std::move(handler));
  return true;
}

void Loop::modify(int fd, uint32_t events) {
  struct epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void Loop::remove(int fd) {
  if (handlers_.erase(fd) > 0) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

uint64_t Loop::after(int64_t ms, Timer fn) {
  uint64_t id = next_timer_++;
  int64_t at = now_ms() + ms;
  timers_.emplace(id, std::make_pair(at, std::move(fn)));
  deadlines_.emplace(at, id);
  return id;
}

void Loop::cancel(uint64_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto range = deadlines_.equal_range(it->second.first);
  for (auto d = range.first; d != range.second; ++d) {
    if (d->second == id) {
      deadlines_.erase(d);
      break;
    }
  }
  timers_.erase(it);
}

void Loop::run() {
  running_ = true;
  std::vector<struct epoll_event> events(64);
  while (running_) {
    int timeout = -1;
    if (!deadlines_.empty()) {
      int64_t left = deadlines_.begin()->first - now_ms();
      timeout = left < 0 ? 0 : static_cast<int>(left);
    }
    int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n && running_; i++) {
      auto it = handlers_.find(events[i].data.fd);
      if (it == handlers_.end()) continue;  // removed by an earlier handler of this round
      std::shared_ptr<Handler> h = it->second;
      (*h)(events[i].events);
    }
    int64_t now = now_ms();
    while (running_ && !deadlines_.empty() && deadlines_.begin()->first <= now) {
      uint64_t id = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      auto t = timers_.find(id);
      if (t == timers_.end()) continue;
      Timer fn = std::move(t->second.second);
      timers_.erase(t);
      fn();
    }
  }
}

}  // namespace tsrun::keeper

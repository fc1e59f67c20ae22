// The keeper's event loop: one thread, one epoll set, timers kept in a map and served from
// epoll_wait's timeout. Handlers run one at a time and never block; every fd is non-blocking
// and every handler copes with a spurious wake-up (an fd number closed and reused within one
// round of events may see its predecessor's).
#pragma once
#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace tsrun::keeper {

/** CLOCK_MONOTONIC in milliseconds. */
int64_t now_ms();

class Loop {
 public:
  using Handler = std::function<void(uint32_t events)>;
  using Timer = std::function<void()>;

  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /** Watches fd for events (EPOLLIN, EPOLLOUT...); false with errno set when epoll refuses. */
  bool add(int fd, uint32_t events, Handler handler);
  /** Changes what fd is watched for. */
  void modify(int fd, uint32_t events);
  /** Stops watching fd (call before closing it). A handler may remove its own fd. */
  void remove(int fd);
  bool watching(int fd) const { return handlers_.count(fd) > 0; }

  /** Runs fn once, ms from now; returns an id for cancel(). */
  uint64_t after(int64_t ms, Timer fn);
  void cancel(uint64_t id);

  /** Serves events and timers until stop(). */
  void run();
  void stop() { running_ = false; }

 private:
  int epfd_;
  bool running_ = false;
  // shared_ptr: a handler that removes its fd (or another's) must not destroy a handler
  // that is still running.
  std::map<int, std::shared_ptr<Handler>> handlers_;
  std::multimap<int64_t, uint64_t> deadlines_;
  std::map<uint64_t, std::pair<int64_t, Timer>> timers_;
  uint64_t next_timer_ = 1;
};

}  // namespace tsrun::keeper

// The keeper's end of its channel to the brain (proto/tsrun/keeper/v1/keeper.proto has the
// format): whole messages in, each with the fds that came with it, and whole messages out,
// queued while the socket is full. The keeper never blocks on its brain: a brain that stops
// reading only makes the queue grow.
#pragma once
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "loop.h"

namespace tsrun::keeper {

class Channel {
 public:
  /** A message, and the fds that came with it (ours to close). */
  using OnMessage = std::function<void(std::string_view message, std::vector<int>& fds)>;
  /** The brain is gone (EOF, an error, or a message that breaks the format). */
  using OnClose = std::function<void()>;

  Channel(Loop* loop, int fd, OnMessage on_message, OnClose on_close);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /** Queues a message; the fds are sent with it and closed here once sent (or dropped). */
  void send(std::string message, std::vector<int> fds = {});
  bool open() const { return fd_ >= 0; }
  /** Bytes queued and not yet written. */
  size_t queued() const { return queued_; }
  /** Closes the channel without calling on_close. */
  void close();

 private:
  struct Out {
    std::string data;  // header and message
    std::vector<int> fds;
    size_t off = 0;
  };
  void on_events(uint32_t events);
  void read_some();
  void write_some();
  void fail();
  void watch();

  Loop* loop_;
  int fd_;
  OnMessage on_message_;
  OnClose on_close_;
  std::string in_;
  std::deque<int> in_fds_;
  std::deque<Out> out_;
  size_t queued_ = 0;
  bool write_broken_ = false;
};

}  // namespace tsrun::keeper

// The group's task events, published by the keeper in the order the brain committed them,
// each retried until containerd takes it: through Events.Forward on containerd's ttrpc
// socket (TTRPC_ADDRESS), or with the publish binary when containerd gave no such socket
// (containerd before 1.3). containerd's own publisher gives up after a few tries; a
// restarting containerd must not cost an exit event, so we never do. Only an event
// containerd refuses outright (InvalidArgument, NotFound, AlreadyExists, PermissionDenied,
// Unimplemented) is dropped, with a log line. Events wait here, not in the brain, so a
// brain's death loses none.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "loop.h"
#include "reaper.h"
#include "wire.h"

namespace tsrun::keeper {

class Publisher {
 public:
  struct Config {
    std::string ttrpc_address;   // containerd's ttrpc socket, "" = use the publish binary
    std::string publish_binary;  // containerd's binary, which has `publish`
    std::string address;         // containerd's gRPC socket, for the publish binary
    std::string ns;
  };
  using Log = std::function<void(const std::string&)>;

  Publisher(Loop* loop, Reaper* reaper, Config config, Log log);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void push(wire::Event event);
  size_t pending() const { return queue_.size(); }
  /** done(true) once every queued event is delivered, done(false) after ms. */
  void flush(int64_t ms, std::function<void(bool)> done);

 private:
  void next();
  void delivered();
  void failed(const std::string& why);
  void forward();
  void on_socket(uint32_t events);
  void on_answer(const std::string& data);
  void drop_connection();
  void publish_binary();

  Loop* loop_;
  Reaper* reaper_;
  Config config_;
  Log log_;
  std::deque<wire::Event> queue_;
  bool busy_ = false;
  int64_t backoff_ms_;
  uint64_t timer_ = 0;
  // Events.Forward over one connection, one call at a time.
  int sock_ = -1;
  uint32_t stream_ = 1;
  std::string out_;
  size_t out_off_ = 0;
  std::string in_;
  std::vector<std::pair<uint64_t, std::function<void(bool)>>> flushes_;
};

}  // namespace tsrun::keeper

// containerd's side of a group: its listening socket and the connections containerd opens
// on it (one per task, and one more after each containerd restart). The relay cuts what
// containerd sends into whole ttrpc frames and writes back whole frames the brain answers;
// a brain that dies half-way through a frame therefore never leaves a stream misread.
//
// A frame announcing more than 4 MiB is answered here, as Go's ttrpc answers it (on its
// stream, ResourceExhausted), and its data is skipped without being buffered.
//
// The relay knows which requests have had no answer yet. When the brain dies, those that
// ask and change nothing (State, Wait, Pids, Stats, Connect...) are kept for the next brain,
// and the others are answered with an error saying their outcome is unknown: never a hang,
// never a false success. Wait above all must survive: containerd (and the CRI plugin) hold
// one per task, and an error there reads as an exit with an unknown status.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "loop.h"

namespace tsrun::keeper {

class Relay {
 public:
  struct Callbacks {
    std::function<void(uint32_t conn)> opened;
    /** one whole frame, header included */
    std::function<void(uint32_t conn, std::string_view frame)> frame;
    /** containerd will send no more on conn */
    std::function<void(uint32_t conn)> ended;
  };

  Relay(Loop* loop, int listen_fd, Callbacks callbacks);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  /** Queues bytes (whole frames) to write to conn; dropped when conn is gone. */
  void write(uint32_t conn, std::string_view data);
  /** Closes conn once what is queued for it is written. */
  void close(uint32_t conn);
  /** Closes the listening socket; connections already taken go on. */
  void stop_accepting();
  /** A request frame containerd sent went to the brain: it is in flight until answered. */
  void sent(uint32_t conn, std::string_view frame);
  /** Requests in flight that may not run again (their answer is awaited before a brain
   *  may be left). */
  size_t unrepeatable_in_flight() const;
  /** The brain is gone: the requests in flight that may run again, in order, as
   *  (connection, frame); every other one is answered with code and message. */
  std::vector<std::pair<uint32_t, std::string>> brain_gone(int code, const std::string& message);
  std::vector<uint32_t> connections() const;
  size_t size() const { return conns_.size(); }

 private:
  struct Conn {
    int fd = -1;
    std::string in;
    std::string out;
    size_t out_off = 0;
    uint64_t skip = 0;     // data of an oversized frame still to drop
    bool ended = false;    // containerd sent EOF (or the socket broke)
    bool closing = false;  // close once out is written
    // Requests sent to the brain and not answered, by stream id: the frame when it may run
    // again, else empty.
    std::map<uint32_t, std::string> in_flight;
  };
  void accept_all();
  void on_events(uint32_t id, uint32_t events);
  void read_some(uint32_t id, Conn* c);
  /** False when the connection went meanwhile. */
  bool cut_frames(uint32_t id);
  void flush(uint32_t id, Conn* c);
  void drop(uint32_t id);
  void watch(uint32_t id, Conn* c);

  Loop* loop_;
  int listen_fd_;
  Callbacks cb_;
  std::map<uint32_t, Conn> conns_;
  uint32_t next_id_ = 1;
};

}  // namespace tsrun::keeper

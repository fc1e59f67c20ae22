// The stdio of the group's processes, held and copied by the keeper, so that output keeps
// flowing, byte for byte, while no brain runs.
//
//   no terminal: stdin fifo -> pipe -> process; process -> pipes -> fifo or file
//                (binary://: process -> the logging driver's pipes, no copy of ours)
//   terminal:    tsrun-init sends the pty master over a socketpair of ours; stdin fifo ->
//                master; master -> fifo, file or the driver's stdout pipe
//
// Pipes are copied with splice (no copy through user space; the process blocks when its
// destination does); a pty master with read and write, until it reads EIO (no slave left),
// which is the last of a terminal's output. drained() says when a process's output is all
// copied, so its exit can be reported after it: the client stops reading once it hears of
// the exit. The brain opens the destinations (it judges containerd's stdio strings) and
// hands them over; the keeper makes the pipes and gives the process its ends.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loop.h"
#include "reaper.h"
#include "wire.h"

namespace tsrun::keeper {

class Io {
 public:
  struct Opened {
    int err = 0;
    std::string message;
    /** what the process gets: stdin, stdout, stderr (-1: /dev/null), the console socket */
    std::vector<int> fds;
  };

  Io(Loop* loop, Reaper* reaper);
  ~Io();
  Io(const Io&) = delete;
  Io& operator=(const Io&) = delete;

  /** Sets up io with the destinations in fds (taken: the vector is emptied); done runs once
   *  the process's ends are ready (a logging driver said it is), or with an error. */
  void open(const wire::IoOpen& req, std::vector<int>* fds, std::function<void(Opened)> done);
  /** Closes everything of io; done runs once a logging driver has exited. */
  void close(uint32_t io, std::function<void()> done);
  void resize(uint32_t io, uint32_t width, uint32_t height);
  void close_stdin(uint32_t io);
  /** done runs once io's output has reached EOF and its destinations (at most kDrainMs for
   *  the EOF, a process in the background may hold a pipe; then kFlushMs to write it out,
   *  a fifo nobody reads may never take it). At once for an unknown io. */
  void drained(uint32_t io, std::function<void()> done);
  bool has(uint32_t io) const { return sets_.count(io) > 0; }
  std::vector<uint32_t> ids() const;

  struct Set;
  struct Sink;
  struct Copy;

 private:
  Loop* loop_;
  Reaper* reaper_;
  std::map<uint32_t, std::unique_ptr<Set>> sets_;
};

}  // namespace tsrun::keeper

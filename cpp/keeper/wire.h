// The keeper channel's messages (proto/tsrun/keeper/v1/keeper.proto), encoded and decoded
// by hand. The field numbers here are the proto's; test/unit/shim/keeper-wire.test.ts reads
// this file and fails on any that differ.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tsrun::keeper::wire {

/** The channel's version: a brain refuses a keeper of a version it does not know. */
constexpr uint32_t kVersion = 1;

// KeeperMessage's oneof
constexpr int kKeeperHello = 1;
constexpr int kKeeperConnOpened = 2;
constexpr int kKeeperConnEnded = 3;
constexpr int kKeeperFrame = 4;
constexpr int kKeeperReply = 5;
constexpr int kKeeperExit = 6;

// BrainMessage's oneof
constexpr int kBrainWelcome = 1;
constexpr int kBrainFrame = 2;
constexpr int kBrainCloseConn = 3;
constexpr int kBrainEnd = 4;
constexpr int kBrainSpawn = 5;
constexpr int kBrainClaim = 6;
constexpr int kBrainCommit = 7;
constexpr int kBrainIoOpen = 8;
constexpr int kBrainIoClose = 9;
constexpr int kBrainResize = 10;
constexpr int kBrainCloseStdin = 11;
constexpr int kBrainRetire = 12;

// Group
constexpr int kGroupNamespace = 1;
constexpr int kGroupId = 2;
constexpr int kGroupAddress = 3;
constexpr int kGroupPublishBinary = 4;
constexpr int kGroupSocket = 5;
constexpr int kGroupDebug = 6;

// Hello
constexpr int kHelloVersion = 1;
constexpr int kHelloKeeperPid = 2;
constexpr int kHelloGroup = 3;
constexpr int kHelloConnections = 4;
constexpr int kHelloLog = 5;
constexpr int kHelloRecords = 6;

// Record
constexpr int kRecordKey = 1;
constexpr int kRecordValue = 2;

// Welcome
constexpr int kWelcomeVersion = 1;

// ConnOpened, ConnEnded, CloseConn: conn = 1; Frame: conn = 1, data = 2
constexpr int kConn = 1;
constexpr int kFrameData = 2;

// the calls: Spawn, Claim, IoOpen, IoClose, and their Reply
constexpr int kCall = 1;
constexpr int kSpawnArgv = 2;
constexpr int kSpawnEnv = 3;
constexpr int kSpawnFds = 4;
constexpr int kSpawnCgroup = 5;
constexpr int kClaimPid = 2;
constexpr int kClaimIo = 3;
constexpr int kReplyErrno = 2;
constexpr int kReplyMessage = 3;
constexpr int kReplyPid = 4;
constexpr int kReplyExited = 5;
constexpr int kReplyFds = 6;

// Exit
constexpr int kExitPid = 1;
constexpr int kExitCode = 2;
constexpr int kExitSignal = 3;
constexpr int kExitAtNs = 4;

// Event, Commit
constexpr int kEventTopic = 1;
constexpr int kEventForward = 2;
constexpr int kEventAny = 3;
constexpr int kCommitAcks = 1;
constexpr int kCommitEvents = 2;
constexpr int kCommitRecords = 3;
constexpr int kCommitForget = 4;

// Output, Driver, IoOpen, IoClose, Resize, CloseStdin
constexpr int kOutputKind = 1;
constexpr int kDriverPath = 1;
constexpr int kDriverArgs = 2;
constexpr int kDriverEnv = 3;
constexpr int kDriverV2 = 4;
constexpr int kIoOpenIo = 2;
constexpr int kIoOpenTerminal = 3;
constexpr int kIoOpenStdin = 4;
constexpr int kIoOpenStdout = 5;
constexpr int kIoOpenStderr = 6;
constexpr int kIoOpenDriver = 7;
constexpr int kIoCloseIo = 2;
constexpr int kResizeIo = 1;
constexpr int kResizeWidth = 2;
constexpr int kResizeHeight = 3;
constexpr int kCloseStdinIo = 1;

// Output.Kind
enum class OutputKind { None = 0, File = 1, Fifo = 2, Same = 3, Driver = 4 };

struct Group {
  std::string ns;
  std::string id;
  std::string address;
  std::string publish_binary;
  std::string socket;
  bool debug = false;
};

using Records = std::map<std::string, std::string>;

std::string hello(uint32_t keeper_pid, const Group& group, const std::vector<uint32_t>& connections, bool log,
                  const Records& records);
std::string conn_opened(uint32_t conn);
std::string conn_ended(uint32_t conn);
std::string frame(uint32_t conn, std::string_view data);

struct Reply {
  uint64_t call = 0;
  int err = 0;
  std::string message;
  uint32_t pid = 0;
  bool exited = false;
  std::vector<int32_t> fds;  // slots: an index into the message's fds, or -1
};
std::string reply(const Reply& r);
std::string exit(uint32_t pid, int code, int signal, int64_t at_ns);

struct Spawn {
  uint64_t call = 0;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<int32_t> fds;
  std::string cgroup;
};
bool decode_spawn(std::string_view body, Spawn* out);

struct Claim {
  uint64_t call = 0;
  uint32_t pid = 0;
  uint32_t io = 0;
};
bool decode_claim(std::string_view body, Claim* out);

struct Event {
  std::string topic;
  std::string forward;
  std::string any;
};
struct Commit {
  std::vector<uint32_t> acks;
  std::vector<Event> events;
  Records records;
  std::vector<std::string> forget;
};
bool decode_commit(std::string_view body, Commit* out);

struct Driver {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  bool v2 = false;
};
struct IoOpen {
  uint64_t call = 0;
  uint32_t io = 0;
  bool terminal = false;
  bool stdin = false;
  OutputKind stdout_kind = OutputKind::None;
  OutputKind stderr_kind = OutputKind::None;
  Driver driver;
};
bool decode_io_open(std::string_view body, IoOpen* out);

/** IoClose: call and io; Resize: io, width, height; CloseStdin: io. */
bool decode_io_close(std::string_view body, uint64_t* call, uint32_t* io);
bool decode_resize(std::string_view body, uint32_t* io, uint32_t* width, uint32_t* height);
bool decode_close_stdin(std::string_view body, uint32_t* io);

/** A BrainMessage: which oneof field it holds, and that field's bytes. */
struct BrainMessage {
  int kind = 0;
  std::string_view body;
};
bool decode(std::string_view message, BrainMessage* out);

/** conn of a CloseConn, or of a Frame along with its data. */
bool decode_conn(std::string_view body, uint32_t* conn, std::string_view* data = nullptr);
bool decode_welcome(std::string_view body, uint32_t* version);

}  // namespace tsrun::keeper::wire

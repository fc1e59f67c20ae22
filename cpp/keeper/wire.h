// The keeper channel's messages (proto/tsrun/keeper/v1/keeper.proto), encoded and decoded
// by hand. The field numbers here are the proto's; test/unit/shim/keeper-wire.test.ts reads
// this file and fails on any that differ.
#pragma once
#include <cstdint>
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

// BrainMessage's oneof
constexpr int kBrainWelcome = 1;
constexpr int kBrainFrame = 2;
constexpr int kBrainCloseConn = 3;
constexpr int kBrainEnd = 4;

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

// Welcome
constexpr int kWelcomeVersion = 1;

// ConnOpened, ConnEnded, CloseConn: conn = 1; Frame: conn = 1, data = 2
constexpr int kConn = 1;
constexpr int kFrameData = 2;

struct Group {
  std::string ns;
  std::string id;
  std::string address;
  std::string publish_binary;
  std::string socket;
  bool debug = false;
};

std::string hello(uint32_t keeper_pid, const Group& group, const std::vector<uint32_t>& connections, bool log);
std::string conn_opened(uint32_t conn);
std::string conn_ended(uint32_t conn);
std::string frame(uint32_t conn, std::string_view data);

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

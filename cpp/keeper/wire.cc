#include "wire.h"

#include "../shim/pb.h"

namespace tsrun::keeper::wire {
namespace {

std::string keeper_message(int kind, const std::string& body) {
  std::string out;
  pb::put_bytes(&out, kind, body);
  return out;
}

std::string conn_only(int kind, uint32_t conn) {
  std::string body;
  pb::put_uint(&body, kConn, conn);
  return keeper_message(kind, body);
}

}  // namespace

std::string hello(uint32_t keeper_pid, const Group& g, const std::vector<uint32_t>& connections, bool log) {
  std::string group;
  pb::put_string(&group, kGroupNamespace, g.ns);
  pb::put_string(&group, kGroupId, g.id);
  pb::put_string(&group, kGroupAddress, g.address);
  pb::put_string(&group, kGroupPublishBinary, g.publish_binary);
  pb::put_string(&group, kGroupSocket, g.socket);
  pb::put_bool(&group, kGroupDebug, g.debug);
  std::string body;
  pb::put_uint(&body, kHelloVersion, kVersion);
  pb::put_uint(&body, kHelloKeeperPid, keeper_pid);
  pb::put_bytes(&body, kHelloGroup, group);
  if (!connections.empty()) {
    std::string packed;
    for (uint32_t c : connections) pb::put_packed(&packed, c);
    pb::put_bytes(&body, kHelloConnections, packed);
  }
  pb::put_bool(&body, kHelloLog, log);
  return keeper_message(kKeeperHello, body);
}

std::string conn_opened(uint32_t conn) { return conn_only(kKeeperConnOpened, conn); }

std::string conn_ended(uint32_t conn) { return conn_only(kKeeperConnEnded, conn); }

std::string frame(uint32_t conn, std::string_view data) {
  std::string body;
  body.reserve(data.size() + 16);
  pb::put_uint(&body, kConn, conn);
  pb::put_bytes(&body, kFrameData, data);
  return keeper_message(kKeeperFrame, body);
}

bool decode(std::string_view message, BrainMessage* out) {
  *out = BrainMessage{};
  return pb::each_field(message, [&](const pb::Field& f) {
           if (f.type == pb::kBytes) {
             out->kind = f.number;
             out->body = f.bytes;
           }
         }) &&
         out->kind != 0;
}

bool decode_conn(std::string_view body, uint32_t* conn, std::string_view* data) {
  *conn = 0;
  if (data) *data = {};
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kConn && f.type == pb::kVarint) *conn = static_cast<uint32_t>(f.num);
    if (data && f.number == kFrameData && f.type == pb::kBytes) *data = f.bytes;
  });
}

bool decode_welcome(std::string_view body, uint32_t* version) {
  *version = 0;
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kWelcomeVersion && f.type == pb::kVarint) *version = static_cast<uint32_t>(f.num);
  });
}

}  // namespace tsrun::keeper::wire

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

std::string hello(uint32_t keeper_pid, const Group& g, const std::vector<uint32_t>& connections, bool log,
                  const Records& records) {
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
  for (const auto& [key, value] : records) {
    std::string r;
    pb::put_string(&r, kRecordKey, key);
    pb::put_bytes(&r, kRecordValue, value);
    pb::put_bytes(&body, kHelloRecords, r);
  }
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

std::string reply(const Reply& r) {
  std::string body;
  pb::put_uint(&body, kCall, r.call);
  pb::put_int(&body, kReplyErrno, r.err);
  pb::put_string(&body, kReplyMessage, r.message);
  pb::put_uint(&body, kReplyPid, r.pid);
  pb::put_bool(&body, kReplyExited, r.exited);
  if (!r.fds.empty()) {
    std::string packed;
    for (int32_t f : r.fds) pb::put_packed(&packed, static_cast<uint64_t>(static_cast<int64_t>(f)));
    pb::put_bytes(&body, kReplyFds, packed);
  }
  return keeper_message(kKeeperReply, body);
}

std::string exit(uint32_t pid, int code, int signal, int64_t at_ns) {
  std::string body;
  pb::put_uint(&body, kExitPid, pid);
  pb::put_int(&body, kExitCode, code);
  pb::put_int(&body, kExitSignal, signal);
  pb::put_int(&body, kExitAtNs, at_ns);
  return keeper_message(kKeeperExit, body);
}

namespace {

// A repeated varint field arrives packed (proto3's default) or, from older writers, one
// element per field: both are taken.
template <typename T>
void take_varints(const pb::Field& f, std::vector<T>* out) {
  if (f.type == pb::kVarint) {
    out->push_back(static_cast<T>(static_cast<int64_t>(f.num)));
  } else if (f.type == pb::kBytes) {
    pb::each_packed(f.bytes, [&](uint64_t v) { out->push_back(static_cast<T>(static_cast<int64_t>(v))); });
  }
}

bool decode_driver(std::string_view body, Driver* d) {
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kDriverPath && f.type == pb::kBytes) d->path = std::string(f.bytes);
    if (f.number == kDriverArgs && f.type == pb::kBytes) d->args.emplace_back(f.bytes);
    if (f.number == kDriverEnv && f.type == pb::kBytes) d->env.emplace_back(f.bytes);
    if (f.number == kDriverV2 && f.type == pb::kVarint) d->v2 = f.num != 0;
  });
}

bool decode_output(std::string_view body, OutputKind* kind) {
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kOutputKind && f.type == pb::kVarint) *kind = static_cast<OutputKind>(f.num);
  });
}

}  // namespace

bool decode_spawn(std::string_view body, Spawn* out) {
  *out = Spawn{};
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kCall && f.type == pb::kVarint) out->call = f.num;
    if (f.number == kSpawnArgv && f.type == pb::kBytes) out->argv.emplace_back(f.bytes);
    if (f.number == kSpawnEnv && f.type == pb::kBytes) out->env.emplace_back(f.bytes);
    if (f.number == kSpawnFds) take_varints(f, &out->fds);
    if (f.number == kSpawnCgroup && f.type == pb::kBytes) out->cgroup.assign(f.bytes);
  });
}

bool decode_claim(std::string_view body, Claim* out) {
  *out = Claim{};
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kCall && f.type == pb::kVarint) out->call = f.num;
    if (f.number == kClaimPid && f.type == pb::kVarint) out->pid = static_cast<uint32_t>(f.num);
    if (f.number == kClaimIo && f.type == pb::kVarint) out->io = static_cast<uint32_t>(f.num);
  });
}

bool decode_commit(std::string_view body, Commit* out) {
  *out = Commit{};
  bool ok = true;
  bool parsed = pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kCommitAcks) take_varints(f, &out->acks);
    if (f.number == kCommitEvents && f.type == pb::kBytes) {
      Event e;
      ok = ok && pb::each_field(f.bytes, [&](const pb::Field& g) {
             if (g.number == kEventTopic && g.type == pb::kBytes) e.topic = std::string(g.bytes);
             if (g.number == kEventForward && g.type == pb::kBytes) e.forward = std::string(g.bytes);
             if (g.number == kEventAny && g.type == pb::kBytes) e.any = std::string(g.bytes);
           });
      out->events.push_back(std::move(e));
    }
    if (f.number == kCommitRecords && f.type == pb::kBytes) {
      std::string key, value;
      ok = ok && pb::each_field(f.bytes, [&](const pb::Field& g) {
             if (g.number == kRecordKey && g.type == pb::kBytes) key = std::string(g.bytes);
             if (g.number == kRecordValue && g.type == pb::kBytes) value = std::string(g.bytes);
           });
      out->records[key] = std::move(value);
    }
    if (f.number == kCommitForget && f.type == pb::kBytes) out->forget.emplace_back(f.bytes);
  });
  return parsed && ok;
}

bool decode_io_open(std::string_view body, IoOpen* out) {
  *out = IoOpen{};
  bool ok = true;
  bool parsed = pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kCall && f.type == pb::kVarint) out->call = f.num;
    if (f.number == kIoOpenIo && f.type == pb::kVarint) out->io = static_cast<uint32_t>(f.num);
    if (f.number == kIoOpenTerminal && f.type == pb::kVarint) out->terminal = f.num != 0;
    if (f.number == kIoOpenStdin && f.type == pb::kVarint) out->stdin = f.num != 0;
    if (f.number == kIoOpenStdout && f.type == pb::kBytes) ok = ok && decode_output(f.bytes, &out->stdout_kind);
    if (f.number == kIoOpenStderr && f.type == pb::kBytes) ok = ok && decode_output(f.bytes, &out->stderr_kind);
    if (f.number == kIoOpenDriver && f.type == pb::kBytes) ok = ok && decode_driver(f.bytes, &out->driver);
  });
  return parsed && ok;
}

bool decode_io_close(std::string_view body, uint64_t* call, uint32_t* io) {
  *call = 0;
  *io = 0;
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kCall && f.type == pb::kVarint) *call = f.num;
    if (f.number == kIoCloseIo && f.type == pb::kVarint) *io = static_cast<uint32_t>(f.num);
  });
}

bool decode_resize(std::string_view body, uint32_t* io, uint32_t* width, uint32_t* height) {
  *io = *width = *height = 0;
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.type != pb::kVarint) return;
    if (f.number == kResizeIo) *io = static_cast<uint32_t>(f.num);
    if (f.number == kResizeWidth) *width = static_cast<uint32_t>(f.num);
    if (f.number == kResizeHeight) *height = static_cast<uint32_t>(f.num);
  });
}

bool decode_close_stdin(std::string_view body, uint32_t* io) {
  *io = 0;
  return pb::each_field(body, [&](const pb::Field& f) {
    if (f.number == kCloseStdinIo && f.type == pb::kVarint) *io = static_cast<uint32_t>(f.num);
  });
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

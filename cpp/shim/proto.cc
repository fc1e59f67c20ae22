#include "proto.h"

#include "pb.h"

namespace tsrun::shim::proto {

using pb::put_bytes;
using pb::put_uint;

std::string request(const std::string& service, const std::string& method, const std::string& payload,
                    int64_t timeout_nano) {
  std::string out;
  put_bytes(&out, 1, service);
  put_bytes(&out, 2, method);
  put_bytes(&out, 3, payload);
  put_uint(&out, 4, static_cast<uint64_t>(timeout_nano));
  return out;
}

std::string error_response(int code, const std::string& message) {
  std::string status;
  pb::put_int(&status, 1, code);
  pb::put_string(&status, 2, message);
  std::string out;
  pb::put_bytes(&out, 1, status);
  return out;
}

bool decode_response(const std::string& data, Response* out) {
  *out = Response{};
  bool status_ok = true;
  bool ok = pb::each_field(data, [&](const pb::Field& f) {
    if (f.number == 1 && f.type == pb::kBytes) {
      status_ok = pb::each_field(f.bytes, [&](const pb::Field& g) {
        if (g.number == 1 && g.type == pb::kVarint) out->code = static_cast<int>(static_cast<int32_t>(g.num));
        if (g.number == 2 && g.type == pb::kBytes) out->message = std::string(g.bytes);
      });
    } else if (f.number == 2 && f.type == pb::kBytes) {
      out->payload = std::string(f.bytes);
    }
  });
  return ok && status_ok;
}

std::string delete_request(const std::string& id) {
  std::string out;
  put_bytes(&out, 1, id);
  return out;
}

std::string delete_response(uint32_t pid, uint32_t exit_status, int64_t seconds, int32_t nanos) {
  std::string ts;
  pb::put_int(&ts, 1, seconds);
  pb::put_int(&ts, 2, nanos);
  std::string out;
  put_uint(&out, 1, pid);
  put_uint(&out, 2, exit_status);
  put_bytes(&out, 3, ts);
  return out;
}

}  // namespace tsrun::shim::proto

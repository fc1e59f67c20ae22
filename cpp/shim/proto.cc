#include "proto.h"

namespace tsrun::shim::proto {
namespace {

enum WireType { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

void put_tag(std::string* out, int field, WireType type) { put_varint(out, (uint64_t(field) << 3) | type); }

bool get_varint(const std::string& in, size_t* pos, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= in.size()) return false;
    auto byte = static_cast<unsigned char>(in[(*pos)++]);
    *v |= uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

// Calls fn(field, type, varint, bytes) for each field; false on malformed input.
template <typename Fn>
bool each_field(const std::string& in, Fn fn) {
  size_t pos = 0;
  while (pos < in.size()) {
    uint64_t tag;
    if (!get_varint(in, &pos, &tag)) return false;
    int field = static_cast<int>(tag >> 3);
    auto type = static_cast<WireType>(tag & 7);
    uint64_t num = 0;
    std::string bytes;
    switch (type) {
      case kVarint:
        if (!get_varint(in, &pos, &num)) return false;
        break;
      case kFixed64:
        if (pos + 8 > in.size()) return false;
        pos += 8;
        break;
      case kFixed32:
        if (pos + 4 > in.size()) return false;
        pos += 4;
        break;
      case kBytes: {
        uint64_t len;
        if (!get_varint(in, &pos, &len) || len > in.size() - pos) return false;
        bytes = in.substr(pos, len);
        pos += len;
        break;
      }
      default:
        return false;
    }
    fn(field, type, num, bytes);
  }
  return true;
}

}  // namespace

void put_varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    *out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *out += static_cast<char>(v);
}

void put_bytes(std::string* out, int field, const std::string& bytes) {
  put_tag(out, field, kBytes);
  put_varint(out, bytes.size());
  *out += bytes;
}

void put_uint(std::string* out, int field, uint64_t v) {
  if (v == 0) return;  // proto3 leaves defaults out
  put_tag(out, field, kVarint);
  put_varint(out, v);
}

std::string request(const std::string& service, const std::string& method, const std::string& payload,
                    int64_t timeout_nano) {
  std::string out;
  put_bytes(&out, 1, service);
  put_bytes(&out, 2, method);
  put_bytes(&out, 3, payload);
  put_uint(&out, 4, static_cast<uint64_t>(timeout_nano));
  return out;
}

bool decode_response(const std::string& data, Response* out) {
  *out = Response{};
  bool status_ok = true;
  bool ok = each_field(data, [&](int field, WireType type, uint64_t, const std::string& bytes) {
    if (field == 1 && type == kBytes) {
      status_ok = each_field(bytes, [&](int f, WireType t, uint64_t num, const std::string& b) {
        if (f == 1 && t == kVarint) out->code = static_cast<int>(static_cast<int32_t>(num));
        if (f == 2 && t == kBytes) out->message = b;
      });
    } else if (field == 2 && type == kBytes) {
      out->payload = bytes;
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
  // int64/int32 negatives are ten-byte varints in protobuf
  if (seconds != 0) {
    put_tag(&ts, 1, kVarint);
    put_varint(&ts, static_cast<uint64_t>(seconds));
  }
  if (nanos != 0) {
    put_tag(&ts, 2, kVarint);
    put_varint(&ts, static_cast<uint64_t>(static_cast<int64_t>(nanos)));
  }
  std::string out;
  put_uint(&out, 1, pid);
  put_uint(&out, 2, exit_status);
  put_bytes(&out, 3, ts);
  return out;
}

}  // namespace tsrun::shim::proto

// Protobuf's wire format by hand, for the few messages the native shim speaks (ttrpc's
// envelope, task v2's Delete, the keeper channel of proto/tsrun/keeper/v1): a writer of
// tagged fields and a reader that walks the fields of one message. No reflection, no
// generated code, no exceptions: the launcher and the keeper are small static programs.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace tsrun::pb {

enum WireType { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

inline void put_varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    *out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *out += static_cast<char>(v);
}

inline void put_tag(std::string* out, int field, WireType type) { put_varint(out, (uint64_t(field) << 3) | type); }

inline void put_bytes(std::string* out, int field, std::string_view bytes) {
  put_tag(out, field, kBytes);
  put_varint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

/** A string field, left out when empty (proto3's default). */
inline void put_string(std::string* out, int field, std::string_view s) {
  if (!s.empty()) put_bytes(out, field, s);
}

/** An unsigned varint field, left out when 0. */
inline void put_uint(std::string* out, int field, uint64_t v) {
  if (v == 0) return;
  put_tag(out, field, kVarint);
  put_varint(out, v);
}

/** int32/int64: negatives are ten-byte varints. */
inline void put_int(std::string* out, int field, int64_t v) { put_uint(out, field, static_cast<uint64_t>(v)); }

inline void put_bool(std::string* out, int field, bool v) { put_uint(out, field, v ? 1 : 0); }

/** One element of a packed repeated varint field is written by the caller into a buffer
 *  that is then put_bytes'ed; this appends the element. */
inline void put_packed(std::string* packed, uint64_t v) { put_varint(packed, v); }

inline bool get_varint(std::string_view in, size_t* pos, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= in.size()) return false;
    auto byte = static_cast<unsigned char>(in[(*pos)++]);
    *v |= uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

struct Field {
  int number;
  WireType type;
  uint64_t num;            // a varint's value
  std::string_view bytes;  // a length-delimited field's bytes (into the message)
};

/** Calls fn(const Field&) for each field of the message; false on malformed input. */
template <typename Fn>
bool each_field(std::string_view in, Fn fn) {
  size_t pos = 0;
  while (pos < in.size()) {
    uint64_t tag;
    if (!get_varint(in, &pos, &tag)) return false;
    Field f{static_cast<int>(tag >> 3), static_cast<WireType>(tag & 7), 0, {}};
    switch (f.type) {
      case kVarint:
        if (!get_varint(in, &pos, &f.num)) return false;
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
        f.bytes = in.substr(pos, len);
        pos += len;
        break;
      }
      default:
        return false;
    }
    fn(f);
  }
  return true;
}

/** A packed repeated varint field's elements; false on malformed input. */
template <typename Fn>
bool each_packed(std::string_view in, Fn fn) {
  size_t pos = 0;
  while (pos < in.size()) {
    uint64_t v;
    if (!get_varint(in, &pos, &v)) return false;
    fn(v);
  }
  return true;
}

}  // namespace tsrun::pb

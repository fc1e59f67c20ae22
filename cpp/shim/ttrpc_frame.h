// ttrpc's frame (containerd/ttrpc channel.go): a 10-byte big-endian header (data length,
// stream id, message type, flags) and the data, at most 4 MiB.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace tsrun::ttrpc {

constexpr size_t kHeader = 10;
constexpr uint32_t kMaxData = 4 << 20;
constexpr uint8_t kTypeRequest = 1;
constexpr uint8_t kTypeResponse = 2;

// google.rpc.Code values the native side answers with.
constexpr int kCodeUnknown = 2;
constexpr int kCodeResourceExhausted = 8;
constexpr int kCodeUnavailable = 14;

inline void put_be32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) *out += static_cast<char>((v >> shift) & 0xff);
}

inline uint32_t get_be32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

struct Header {
  uint32_t length;
  uint32_t stream;
  uint8_t type;
  uint8_t flags;
};

/** The header at p (kHeader bytes). */
inline Header header_of(const char* p) {
  return Header{get_be32(p), get_be32(p + 4), static_cast<uint8_t>(p[8]), static_cast<uint8_t>(p[9])};
}

/** Header and data in one string, as one write puts them on the socket. */
inline std::string frame(uint32_t stream, uint8_t type, std::string_view data) {
  std::string out;
  out.reserve(kHeader + data.size());
  put_be32(&out, static_cast<uint32_t>(data.size()));
  put_be32(&out, stream);
  out += static_cast<char>(type);
  out += '\0';
  out.append(data.data(), data.size());
  return out;
}

}  // namespace tsrun::ttrpc

// The client's side of the records of protocol.h: building them, reading them, and one
// record with its fds on the socket each way.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tsrun::cli {

class Out {
 public:
  Out& u32(uint32_t v) {
    for (int i = 0; i < 4; i++) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  Out& i32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
  Out& str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    buf_.append(s);
    return *this;
  }
  Out& strs(const std::vector<std::string>& list) {
    u32(static_cast<uint32_t>(list.size()));
    for (const auto& s : list) str(s);
    return *this;
  }
  const std::string& bytes() const { return buf_; }

 private:
  std::string buf_;
};

class In {
 public:
  explicit In(std::string data) : buf_(std::move(data)) {}
  bool ok() const { return ok_; }
  uint32_t u32() {
    if (off_ + 4 > buf_.size()) {
      ok_ = false;
      return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= static_cast<uint32_t>(static_cast<unsigned char>(buf_[off_ + i])) << (8 * i);
    off_ += 4;
    return v;
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  std::string str() {
    uint32_t n = u32();
    if (!ok_ || off_ + n > buf_.size()) {
      ok_ = false;
      return "";
    }
    std::string s = buf_.substr(off_, n);
    off_ += n;
    return s;
  }
  std::vector<std::string> strs() {
    uint32_t n = u32();
    std::vector<std::string> out;
    for (uint32_t i = 0; ok_ && i < n; i++) out.push_back(str());
    return out;
  }
  std::vector<int32_t> i32s() {
    uint32_t n = u32();
    std::vector<int32_t> out;
    for (uint32_t i = 0; ok_ && i < n; i++) out.push_back(i32());
    return out;
  }

 private:
  std::string buf_;
  size_t off_ = 0;
  bool ok_ = true;
};

/** Sends one record with fds (close-on-exec copies stay ours). False when the peer is gone. */
bool send_record(int sock, const std::string& data, const std::vector<int>& fds);

/** Receives one record and its fds; false at the peer's close or on error. */
bool recv_record(int sock, std::string* data, std::vector<int>* fds);

}  // namespace tsrun::cli

// Reads the plan's wire format as plan.def describes it: the readers below know the types,
// and plan.h's visit() gives each record's fields in their order.
#include <cstdio>
#include <cstring>

#include "plan.h"

namespace tsrun::plan {
namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t len) : p_(data), end_(data + len) {}

  bool ok() const { return why_.empty(); }
  bool at_end() const { return p_ == end_; }
  const std::string& why() const { return why_; }
  void fail(const std::string& why) {
    if (ok()) why_ = why;
  }

  template <typename T>
  T num() {
    T v{};
    if (take(sizeof(T))) std::memcpy(&v, p_ - sizeof(T), sizeof(T));
    return v;
  }
  std::string text() {
    uint32_t n = num<uint32_t>();
    if (!take(n)) return {};
    return std::string(reinterpret_cast<const char*>(p_ - n), n);
  }
  // A list count, refused when it cannot fit in what is left (each item is >= 1 byte).
  uint32_t count() {
    uint32_t n = num<uint32_t>();
    if (n > static_cast<size_t>(end_ - p_)) fail("truncated plan");
    return ok() ? n : 0;
  }

 private:
  bool take(size_t n) {
    if (!ok()) return false;
    if (n > static_cast<size_t>(end_ - p_)) {
      fail("truncated plan");
      return false;
    }
    p_ += n;
    return true;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  std::string why_;
};

template <typename T>
void read(Reader& r, std::vector<T>& v);
template <typename T, std::enable_if_t<is_record_v<T>, int> = 0>
void read(Reader& r, T& v);

template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void read(Reader& r, T& v) {
  v = r.num<T>();
}
void read(Reader& r, bool& v) { v = r.num<uint8_t>() != 0; }
void read(Reader& r, std::string& v) { v = r.text(); }

// An enum refuses a code plan.def does not list.
template <typename T, std::enable_if_t<std::is_enum_v<T>, int> = 0>
void read(Reader& r, T& v) {
  v = static_cast<T>(r.num<std::underlying_type_t<T>>());
  if (r.ok() && !valid(v)) r.fail(std::string("invalid ") + enum_name(v) + " " + std::to_string(static_cast<uint64_t>(v)));
}

template <typename T>
void read(Reader& r, std::vector<T>& v) {
  uint32_t n = r.count();
  v.resize(n);
  for (uint32_t i = 0; i < n && r.ok(); i++) read(r, v[i]);
}

template <typename T, std::enable_if_t<is_record_v<T>, int>>
void read(Reader& r, T& v) {
  visit(v, [&r](auto& field) { read(r, field); });
}

}  // namespace

bool decode(const uint8_t* data, size_t len, Plan* out, std::string* why) {
  Reader r(data, len);
  uint32_t hash = r.num<uint32_t>();
  if (r.ok() && hash != kHash) {
    char text[96];
    std::snprintf(text, sizeof(text), "a plan of wire description %08x, this tsrun-init reads %08x: rebuild", hash, kHash);
    *why = text;
    return false;
  }
  read(r, *out);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes after the plan");
  if (!r.ok()) {
    *why = r.why();
    return false;
  }
  return true;
}

}  // namespace tsrun::plan

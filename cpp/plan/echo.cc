// tsrun-plan-echo <file>: decodes a plan as tsrun-init does (decode.cc) and writes it back
// in the wire format on stdout, or the reason on stderr and exit 1. The round-trip test
// (test/native/plan-wire.test.ts) gives it what TypeScript encodes and compares.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "plan.h"

namespace tsrun::plan {
namespace {

class Writer {
 public:
  template <typename T>
  void num(T v) {
    const char* p = reinterpret_cast<const char*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void text(const std::string& s) {
    num(static_cast<uint32_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

template <typename T>
void write(Writer& w, const std::vector<T>& v);
template <typename T, std::enable_if_t<is_record_v<T>, int> = 0>
void write(Writer& w, const T& v);

template <typename T, std::enable_if_t<std::is_integral_v<T> || std::is_enum_v<T>, int> = 0>
void write(Writer& w, T v) {
  w.num(static_cast<storage_t<T>>(v));
}
void write(Writer& w, bool v) { w.num(static_cast<uint8_t>(v ? 1 : 0)); }
void write(Writer& w, const std::string& v) { w.text(v); }

template <typename T>
void write(Writer& w, const std::vector<T>& v) {
  w.num(static_cast<uint32_t>(v.size()));
  for (const auto& item : v) write(w, item);
}

template <typename T, std::enable_if_t<is_record_v<T>, int>>
void write(Writer& w, const T& v) {
  visit(v, [&w](const auto& field) { write(w, field); });
}

}  // namespace
}  // namespace tsrun::plan

int main(int argc, char** argv) {
  using namespace tsrun::plan;
  if (argc != 2) {
    std::fprintf(stderr, "usage: tsrun-plan-echo <plan-file>\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Plan plan;
  std::string why;
  if (!decode(reinterpret_cast<const uint8_t*>(data.data()), data.size(), &plan, &why)) {
    std::fprintf(stderr, "tsrun-plan-echo: %s\n", why.c_str());
    return 1;
  }
  Writer w;
  w.num(kHash);
  write(w, plan);
  std::fwrite(w.bytes().data(), 1, w.bytes().size(), stdout);
  return 0;
}

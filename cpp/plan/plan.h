// The plan's C++ structs, expanded from plan.def (where the fields are described, once for
// both languages). TypeScript builds the plan from config.json (src/runtime/plan/) and
// encodes it (src/native/wire.ts); decode.cc reads it in tsrun-init.
#pragma once
#include "wire.h"

namespace tsrun::plan {

using namespace tsrun::wire;

#define WIRE_ENUM(name, type) enum class name : type {
#define WIRE_VALUE(e, id, ts, code) id = code,
#define WIRE_ENUM_END(name) };
#define WIRE_CONST(name, value) constexpr uint64_t name = value;
#define WIRE_RECORD(name) struct name {
#define WIRE_FIELD(rec, type, name) type name{};
#define WIRE_OPTIONAL(rec, type, name) \
  bool has_##name{};                   \
  type name{};
#define WIRE_LOCAL(rec, type, name)
#define WIRE_RECORD_END(name) };
#include "plan.def"
#include "wire_end.h"

// For the walkers (decode.cc, echo.cc): which codes each enum has, which types are records,
// and each record's fields in their wire order (an OPTIONAL as has_<name>, then <name>).
template <class T>
struct is_record : std::false_type {};
template <class T>
constexpr bool is_record_v = is_record<T>::value;

#define WIRE_ENUM(name, type)                             \
  constexpr const char* enum_name(name) { return #name; } \
  constexpr bool valid(name v) {                          \
    switch (v) {
#define WIRE_VALUE(e, id, ts, code) case e::id:
#define WIRE_ENUM_END(name) \
  return true;              \
  }                         \
  return false;             \
  }
#define WIRE_CONST(name, value)
#define WIRE_RECORD(name)                                                                         \
  template <>                                                                                     \
  struct is_record<name> : std::true_type {};                                                     \
  template <class V, class F, std::enable_if_t<std::is_same_v<std::remove_const_t<V>, name>, int> = 0> \
  void visit(V& v, F&& f) {
#define WIRE_FIELD(rec, type, name) f(v.name);
#define WIRE_OPTIONAL(rec, type, name) \
  f(v.has_##name);                     \
  f(v.name);
#define WIRE_LOCAL(rec, type, name)
#define WIRE_RECORD_END(name) }
#include "plan.def"
#include "wire_end.h"

// Decodes the wire bytes; on failure returns false with a reason in *why.
bool decode(const uint8_t* data, size_t len, Plan* out, std::string* why);

}  // namespace tsrun::plan

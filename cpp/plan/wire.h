// The C++ side of the wire descriptions (plan.def, sync.def): the type names they use and
// the hash that names the descriptions. plan.h and sync.h expand the .def files with these;
// scripts/gen-wire.mjs reads the same files for TypeScript.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace tsrun::wire {

using u8 = uint8_t;
using u32 = uint32_t;
using i32 = int32_t;
using u64 = uint64_t;
using i64 = int64_t;
using flags64 = uint64_t;
using str = std::string;
using bytes = std::string;
template <class T>
using list = std::vector<T>;

// The first 8 hex digits of the SHA-256 of plan.def, sync.def and steps.def, put together
// by CMake (CMakeLists.txt) as scripts/gen-wire.mjs does for TypeScript.
constexpr uint32_t kHash = TSRUN_WIRE_HASH;

// What a fixed record holds for a field of this type: an enum as its underlying integer.
template <class T, bool = std::is_enum_v<T>>
struct storage {
  using type = T;
};
template <class T>
struct storage<T, true> {
  using type = std::underlying_type_t<T>;
};
template <class T>
using storage_t = typename storage<T>::type;

}  // namespace tsrun::wire

// argv and envp as execve wants them, from strings: shared by the addon's spawn, tsrun-init's
// hooks and the shim launcher, three binaries that link nothing in common. Header-only.
#pragma once
#include <string>
#include <vector>

namespace tsrun::sys {

/** Pointers into strings, NULL-terminated; valid while strings are, unchanged. execve's
 *  argv is char* const[] only for C's sake: it writes through none of them. */
inline std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace tsrun::sys

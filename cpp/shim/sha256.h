// SHA-256 (FIPS 180-4), for the socket name containerd's shims derive from
// "<address>/<namespace>/<group>".
#pragma once
#include <string>

namespace tsrun::shim {

/** Lowercase hex digest of data. */
std::string sha256_hex(const std::string& data);

}  // namespace tsrun::shim

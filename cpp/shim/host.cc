#include "host.h"

#include <stdlib.h>

#include "common.h"
#include "sha256.h"

namespace tsrun::shim {

bool hosting_enabled() {
  const char* v = ::getenv("TSRUN_SHIM_HOST");
  return !(v && std::string(v) == "0");
}

std::string host_socket(const Args& a) {
  return socket_dir() + "/host-" + sha256_hex(a.address + "\n" + a.ns + "\n" + package_root()).substr(0, 48);
}

}  // namespace tsrun::shim

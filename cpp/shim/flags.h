// The command line containerd gives a runtime v2 shim, parsed the way Go's flag package does:
// one or two dashes, the value after "=" or as the next argument (never for booleans), and
// the first argument that is not a flag is the action ("start", "delete"; none = serve).
#pragma once
#include <string>

namespace tsrun::shim {

struct Args {
  std::string ns;              // -namespace
  std::string address;         // -address: containerd's gRPC socket
  std::string publish_binary;  // -publish-binary
  std::string id;              // -id
  std::string bundle;          // -bundle (delete; else the cwd)
  std::string socket;          // -socket (2.x: where to listen)
  std::string debug_socket;    // -debug-socket (2.x)
  bool debug = false;          // -debug
  bool version = false;        // -v, -version
  bool info = false;           // -info (2.x)
  std::string action;
};

/** False with *error set on a malformed command line. */
bool parse_args(int argc, const char* const* argv, Args* out, std::string* error);

}  // namespace tsrun::shim

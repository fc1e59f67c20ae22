// One unary ttrpc call over a unix socket, for `delete` asking a live shim server to clean
// up. Frames as in containerd/ttrpc: a 10-byte big-endian header (length, stream id, type,
// flags) and the encoded Request; the answer is the Response on the same stream.
#pragma once
#include <string>

#include "proto.h"

namespace tsrun::shim {

enum class CallOutcome {
  Answered,     // *response holds the server's answer (which may be an error status)
  Unreachable,  // nobody listens, or the connection broke before an answer
};

CallOutcome ttrpc_call(const std::string& socket_path, const std::string& service, const std::string& method,
                       const std::string& payload, int timeout_ms, proto::Response* response);

}  // namespace tsrun::shim

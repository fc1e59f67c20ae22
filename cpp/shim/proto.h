// The few protobuf messages the launcher speaks, encoded and decoded by hand: the ttrpc
// Request/Response envelope, DeleteRequest and DeleteResponse.
#pragma once
#include <cstdint>
#include <string>

namespace tsrun::shim::proto {

/** ttrpc.Request{service, method, payload, timeout_nano} */
std::string request(const std::string& service, const std::string& method, const std::string& payload,
                    int64_t timeout_nano);

struct Response {
  int code = 0;  // google.rpc.Status code; 0 = OK
  std::string message;
  std::string payload;
};

/** ttrpc.Response{status{code, message}}: a failed call's answer. */
std::string error_response(int code, const std::string& message);

/** Decodes a ttrpc.Response; false when the bytes are not one. */
bool decode_response(const std::string& data, Response* out);

/** containerd.task.v2.DeleteRequest{id} */
std::string delete_request(const std::string& id);

/** containerd.task.v2.DeleteResponse{pid, exit_status, exited_at} */
std::string delete_response(uint32_t pid, uint32_t exit_status, int64_t seconds, int32_t nanos);

}  // namespace tsrun::shim::proto

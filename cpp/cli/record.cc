#include "record.h"

#include "../sys/scm.h"
#include "protocol.h"

namespace tsrun::cli {

bool send_record(int sock, const std::string& data, const std::vector<int>& fds) {
  ssize_t n = sys::send_with_fds(sock, data.data(), data.size(), fds.data(), fds.size(), 0);
  return n == static_cast<ssize_t>(data.size());
}

bool recv_record(int sock, std::string* data, std::vector<int>* fds) {
  data->assign(kMaxMessage, '\0');
  bool truncated = false;
  ssize_t n = sys::recv_with_fds(sock, data->data(), data->size(), 0, fds, &truncated);
  if (n <= 0 || truncated) return false;
  data->resize(static_cast<size_t>(n));
  return true;
}

}  // namespace tsrun::cli

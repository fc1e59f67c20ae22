// Whether a process has exited, without reaping it: a pidfd turns readable at exit. For
// callers that only watch (start polling the init) while another waits for the status
// (run), so that the watcher cannot take the exit status away from the waiter.
#include <poll.h>

#include "errors.h"

namespace tsrun::napi {
namespace {

Napi::Value PidfdExited(const Napi::CallbackInfo& info) {
  struct pollfd p = {int_arg(info, 0, "pidfd"), POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) throw errno_error(info.Env(), "poll", errno);
  return Napi::Boolean::New(info.Env(), rc > 0);
}

}  // namespace

void register_pidfd_state(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdExited", Napi::Function::New(env, PidfdExited, "pidfdExited"));
}

}  // namespace tsrun::napi

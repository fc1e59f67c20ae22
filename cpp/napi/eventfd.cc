// eventfds for cgroup v1 notifications (memory.oom_control through cgroup.event_control).
// They are watched like any fd, with whenReadable (exits.cc): src/native/cgroup.ts.
#include <sys/eventfd.h>

#include "errors.h"

namespace tsrun::napi {
namespace {

Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  int fd = ::eventfd(0, EFD_CLOEXEC);
  if (fd < 0) throw errno_error(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

}  // namespace

void register_eventfd(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfd", Napi::Function::New(env, Eventfd, "eventfd"));
}

}  // namespace tsrun::napi

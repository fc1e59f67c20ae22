// The wall clock to the nanosecond: runc records a container's creation time with Go's
// time.Now(), and callers see it in `state` and `list`; Date has milliseconds only.
#include <time.h>

#include "errors.h"

namespace tsrun::napi {
namespace {

// realtimeNs() -> bigint: CLOCK_REALTIME in nanoseconds since the epoch.
Napi::Value RealtimeNs(const Napi::CallbackInfo& info) {
  struct timespec ts;
  if (::clock_gettime(CLOCK_REALTIME, &ts) < 0) throw errno_error(info.Env(), "clock_gettime", errno);
  uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
  return Napi::BigInt::New(info.Env(), ns);
}

}  // namespace

void register_clock(Napi::Env env, Napi::Object exports) {
  exports.Set("realtimeNs", Napi::Function::New(env, RealtimeNs, "realtimeNs"));
}

}  // namespace tsrun::napi

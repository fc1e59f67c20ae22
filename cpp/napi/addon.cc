// Module entry: registers each area's functions. What TypeScript must agree with (the plan,
// the sync records, the step names) it reads from the same descriptions (cpp/plan/*.def).
#include <napi.h>

#include "errors.h"

namespace tsrun::napi {
namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  register_spawn(env, exports);
  register_exits(env, exports);
  register_fs(env, exports);
  register_clock(env, exports);
  register_pty(env, exports);
  register_bpf(env, exports);
  register_eventfd(env, exports);
  register_seccomp(env, exports);
  register_seccomp_agent(env, exports);
  register_shim(env, exports);
  register_spare(env, exports);
  register_channel(env, exports);
  register_dbus(env, exports);
  register_cli_server(env, exports);

  return exports;
}

}  // namespace
}  // namespace tsrun::napi

// NODE_API_MODULE pastes the name into identifiers, so it needs an unqualified one.
static Napi::Object InitTsrun(Napi::Env env, Napi::Object exports) {
  return tsrun::napi::Init(env, exports);
}
NODE_API_MODULE(tsrun_native, InitTsrun)

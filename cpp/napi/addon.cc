// Module entry: registers each area's functions and exports the constants TypeScript
// must agree with (plan version, record layout, step names).
#include <napi.h>

#include "../plan/plan.h"
#include "../plan/sync.h"
#include "errors.h"

namespace tsrun::napi {
namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  register_spawn(env, exports);
  register_exits(env, exports);
  register_fs(env, exports);
  register_pty(env, exports);
  register_bpf(env, exports);
  register_eventfd(env, exports);
  register_seccomp(env, exports);
  register_seccomp_agent(env, exports);
  register_shim(env, exports);
  register_spare(env, exports);

  auto steps = Napi::Array::New(env);
  uint32_t i = 0;
#define STEP(id, name) steps.Set(i++, Napi::String::New(env, name));
#include "../plan/steps.def"
#undef STEP
  exports.Set("stepNames", steps);
  exports.Set("planVersion", Napi::Number::New(env, plan::kPlanVersion));
  exports.Set("planMagic", Napi::Number::New(env, sync::kPlanMagic));
  exports.Set("recordSize", Napi::Number::New(env, sizeof(sync::Record)));
  return exports;
}

}  // namespace
}  // namespace tsrun::napi

// NODE_API_MODULE pastes the name into identifiers, so it needs an unqualified one.
static Napi::Object InitTsrun(Napi::Env env, Napi::Object exports) {
  return tsrun::napi::Init(env, exports);
}
NODE_API_MODULE(tsrun_native, InitTsrun)

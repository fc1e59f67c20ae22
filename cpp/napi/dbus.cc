// D-Bus through libsystemd's sd-bus, for the systemd cgroup driver (src/native/dbus.ts).
//
// libsystemd is dlopen()ed on first use rather than linked: every CLI command loads this
// addon, and only --systemd-cgroup needs the library (and the five it pulls in). Only the
// header comes from libsystemd-dev; the function pointers are resolved from libsystemd.so.0.
//
// The calls block, as runc's do: a method call waits for its reply, and waitJob processes
// the connection until systemd's JobRemoved signal for the job arrives (or the timeout).
// Messages are marshalled generically from a D-Bus signature and JS values, so the units and
// properties live in TypeScript: basic types as numbers, bigints, strings and booleans,
// arrays as arrays, structs as arrays, dict entries as [key, value], variants as
// [signature, value].
#include <dlfcn.h>
#include <systemd/sd-bus.h>

#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"

namespace tsrun::napi {
namespace {

#define SDBUS_FUNCS(X)                \
  X(sd_bus_new)                       \
  X(sd_bus_set_address)               \
  X(sd_bus_start)                     \
  X(sd_bus_open_system)               \
  X(sd_bus_flush_close_unref)         \
  X(sd_bus_message_new_method_call)   \
  X(sd_bus_message_append_basic)      \
  X(sd_bus_message_open_container)    \
  X(sd_bus_message_close_container)   \
  X(sd_bus_message_unref)             \
  X(sd_bus_message_peek_type)         \
  X(sd_bus_message_read_basic)        \
  X(sd_bus_message_read)              \
  X(sd_bus_message_enter_container)   \
  X(sd_bus_message_exit_container)    \
  X(sd_bus_message_at_end)            \
  X(sd_bus_call)                      \
  X(sd_bus_error_free)                \
  X(sd_bus_match_signal)              \
  X(sd_bus_slot_unref)                \
  X(sd_bus_process)                   \
  X(sd_bus_wait)

struct Api {
#define X(name) decltype(&::name) name;
  SDBUS_FUNCS(X)
#undef X
};

/** Loads libsystemd once; throws a JS error naming what is missing. */
const Api& api(Napi::Env env) {
  static std::unique_ptr<Api> loaded;
  if (loaded) return *loaded;
  void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    throw errno_error(env, "dlopen", ENOENT, std::string("libsystemd.so.0: ") + ::dlerror());
  }
  auto a = std::make_unique<Api>();
#define X(name)                                                                   \
  a->name = reinterpret_cast<decltype(&::name)>(::dlsym(lib, #name));             \
  if (a->name == nullptr) throw errno_error(env, "dlsym", ENOENT, "libsystemd.so.0: " #name);
  SDBUS_FUNCS(X)
#undef X
  loaded = std::move(a);
  return *loaded;
}

struct JobDone {
  std::string job;
  std::string result;
};

struct Bus {
  sd_bus* bus = nullptr;
  sd_bus_slot* slot = nullptr;
  /** JobRemoved signals not yet asked for; old ones are dropped (other clients' jobs). */
  std::deque<JobDone> removed;
};

std::vector<std::unique_ptr<Bus>> buses;

Bus& bus_arg(const Napi::CallbackInfo& info, size_t i) {
  int h = int_arg(info, i, "bus");
  if (h < 0 || static_cast<size_t>(h) >= buses.size() || !buses[h]) {
    throw Napi::TypeError::New(info.Env(), "bus is not an open connection");
  }
  return *buses[h];
}

/** A failed call: errno, and the D-Bus error's name and message when systemd sent one. */
Napi::Error bus_error(Napi::Env env, const char* what, int r, const sd_bus_error* e) {
  std::string detail = e != nullptr && e->message != nullptr ? e->message : "";
  Napi::Error err = errno_error(env, what, -r, detail);
  if (e != nullptr && e->name != nullptr) err.Set("dbusName", Napi::String::New(env, e->name));
  return err;
}

// The signal handler runs inside sd_bus_process, which only runs after api() loaded.
const Api* signal_api = nullptr;

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* b = static_cast<Bus*>(userdata);
  uint32_t id = 0;
  const char* job = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (signal_api->sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
  b->removed.push_back({job, result});
  if (b->removed.size() > 1024) b->removed.pop_front();
  return 0;
}

/** busOpen(address | null): the system bus when null (with Hello), else a direct connection. */
Napi::Value BusOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Api& a = api(env);
  signal_api = &a;
  auto b = std::make_unique<Bus>();
  int r;
  if (info.Length() > 0 && info[0].IsString()) {
    std::string address = info[0].As<Napi::String>().Utf8Value();
    r = a.sd_bus_new(&b->bus);
    if (r < 0) throw bus_error(env, "sd_bus_new", r, nullptr);
    r = a.sd_bus_set_address(b->bus, address.c_str());
    if (r >= 0) r = a.sd_bus_start(b->bus);
    if (r < 0) {
      a.sd_bus_flush_close_unref(b->bus);
      throw bus_error(env, "sd_bus_start", r, nullptr);
    }
  } else {
    r = a.sd_bus_open_system(&b->bus);
    if (r < 0) throw bus_error(env, "sd_bus_open_system", r, nullptr);
  }
  // Installed before any job is started so that no JobRemoved can be missed. On the system
  // bus this also sends AddMatch; systemd sends job signals to a job's own client unasked.
  r = a.sd_bus_match_signal(b->bus, &b->slot, nullptr, "/org/freedesktop/systemd1",
                            "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed,
                            b.get());
  if (r < 0) {
    a.sd_bus_flush_close_unref(b->bus);
    throw bus_error(env, "sd_bus_match_signal", r, nullptr);
  }
  for (size_t i = 0; i < buses.size(); i++) {
    if (!buses[i]) {
      buses[i] = std::move(b);
      return Napi::Number::New(env, static_cast<double>(i));
    }
  }
  buses.push_back(std::move(b));
  return Napi::Number::New(env, static_cast<double>(buses.size() - 1));
}

Napi::Value BusClose(const Napi::CallbackInfo& info) {
  Bus& b = bus_arg(info, 0);
  const Api& a = api(info.Env());
  a.sd_bus_slot_unref(b.slot);
  a.sd_bus_flush_close_unref(b.bus);
  buses[int_arg(info, 0, "bus")].reset();
  return info.Env().Undefined();
}

/** Length of the single complete type at the start of sig. */
size_t complete_type_len(Napi::Env env, const char* sig) {
  switch (sig[0]) {
    case 'a':
      return 1 + complete_type_len(env, sig + 1);
    case '(':
    case '{': {
      char open = sig[0];
      char close = open == '(' ? ')' : '}';
      int depth = 0;
      for (size_t i = 0; sig[i] != '\0'; i++) {
        if (sig[i] == open) depth++;
        if (sig[i] == close && --depth == 0) return i + 1;
      }
      throw Napi::TypeError::New(env, std::string("unbalanced D-Bus signature: ") + sig);
    }
    case '\0':
      throw Napi::TypeError::New(env, "D-Bus signature ended early");
    default:
      return 1;
  }
}

uint64_t to_u64(Napi::Env env, Napi::Value v) {
  if (v.IsBigInt()) {
    bool lossless = true;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsNumber()) return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
  throw Napi::TypeError::New(env, "D-Bus integer must be a number or bigint");
}

void append(Napi::Env env, const Api& a, sd_bus_message* m, const std::string& type, Napi::Value v);

void append_each(Napi::Env env, const Api& a, sd_bus_message* m, const std::string& types, Napi::Array items) {
  size_t pos = 0;
  uint32_t i = 0;
  while (pos < types.size()) {
    size_t len = complete_type_len(env, types.c_str() + pos);
    append(env, a, m, types.substr(pos, len), items.Get(i++));
    pos += len;
  }
}

void check(Napi::Env env, int r, const char* what) {
  if (r < 0) throw bus_error(env, what, r, nullptr);
}

void append(Napi::Env env, const Api& a, sd_bus_message* m, const std::string& type, Napi::Value v) {
  char t = type[0];
  if (t == 'a' || t == '(' || t == '{' || t == 'v') {
    if (!v.IsArray()) throw Napi::TypeError::New(env, "D-Bus " + type + " needs an array");
    auto arr = v.As<Napi::Array>();
    if (t == 'v') {
      std::string inner = arr.Get(0u).As<Napi::String>().Utf8Value();
      check(env, a.sd_bus_message_open_container(m, 'v', inner.c_str()), "append variant");
      append(env, a, m, inner, arr.Get(1u));
    } else if (t == 'a') {
      std::string elem = type.substr(1);
      check(env, a.sd_bus_message_open_container(m, 'a', elem.c_str()), "append array");
      for (uint32_t i = 0; i < arr.Length(); i++) append(env, a, m, elem, arr.Get(i));
    } else {
      std::string inner = type.substr(1, type.size() - 2);
      check(env, a.sd_bus_message_open_container(m, t == '(' ? 'r' : 'e', inner.c_str()), "append struct");
      append_each(env, a, m, inner, arr);
    }
    check(env, a.sd_bus_message_close_container(m), "close container");
    return;
  }
  int r;
  switch (t) {
    case 's':
    case 'o':
    case 'g': {
      std::string s = v.ToString().Utf8Value();
      r = a.sd_bus_message_append_basic(m, t, s.c_str());
      break;
    }
    case 'b': {
      int b = v.ToBoolean().Value() ? 1 : 0;
      r = a.sd_bus_message_append_basic(m, t, &b);
      break;
    }
    case 'y': {
      uint8_t y = static_cast<uint8_t>(to_u64(env, v));
      r = a.sd_bus_message_append_basic(m, t, &y);
      break;
    }
    case 'n':
    case 'q': {
      uint16_t n = static_cast<uint16_t>(to_u64(env, v));
      r = a.sd_bus_message_append_basic(m, t, &n);
      break;
    }
    case 'i':
    case 'u': {
      uint32_t u = static_cast<uint32_t>(to_u64(env, v));
      r = a.sd_bus_message_append_basic(m, t, &u);
      break;
    }
    case 'x':
    case 't': {
      uint64_t u = to_u64(env, v);
      r = a.sd_bus_message_append_basic(m, t, &u);
      break;
    }
    case 'd': {
      double d = v.ToNumber().DoubleValue();
      r = a.sd_bus_message_append_basic(m, t, &d);
      break;
    }
    default:
      throw Napi::TypeError::New(env, "unsupported D-Bus type " + type);
  }
  check(env, r, "append");
}

Napi::Value read_one(Napi::Env env, const Api& a, sd_bus_message* m, char type, const char* contents);

/** Reads the values left in the current container into arr. */
void read_rest(Napi::Env env, const Api& a, sd_bus_message* m, Napi::Array arr) {
  for (;;) {
    char type = 0;
    const char* contents = nullptr;
    int r = a.sd_bus_message_peek_type(m, &type, &contents);
    check(env, r, "read");
    if (r == 0) return;
    arr.Set(arr.Length(), read_one(env, a, m, type, contents));
  }
}

Napi::Value read_one(Napi::Env env, const Api& a, sd_bus_message* m, char type, const char* contents) {
  if (type == 'a' || type == 'r' || type == 'e' || type == 'v') {
    std::string inner = contents != nullptr ? contents : "";
    check(env, a.sd_bus_message_enter_container(m, type, contents), "enter container");
    auto arr = Napi::Array::New(env);
    if (type == 'v') {
      arr.Set(0u, Napi::String::New(env, inner));
      auto value = Napi::Array::New(env);
      read_rest(env, a, m, value);
      arr.Set(1u, value.Get(0u));
    } else {
      read_rest(env, a, m, arr);
    }
    check(env, a.sd_bus_message_exit_container(m), "exit container");
    return arr;
  }
  union {
    uint8_t y;
    int b;
    int16_t n;
    uint16_t q;
    int32_t i;
    uint32_t u;
    int64_t x;
    uint64_t t;
    double d;
    const char* s;
  } v{};
  check(env, a.sd_bus_message_read_basic(m, type, &v), "read");
  switch (type) {
    case 'y': return Napi::Number::New(env, v.y);
    case 'b': return Napi::Boolean::New(env, v.b != 0);
    case 'n': return Napi::Number::New(env, v.n);
    case 'q': return Napi::Number::New(env, v.q);
    case 'i': return Napi::Number::New(env, v.i);
    case 'u': return Napi::Number::New(env, v.u);
    case 'x': return Napi::BigInt::New(env, v.x);
    case 't': return Napi::BigInt::New(env, v.t);
    case 'd': return Napi::Number::New(env, v.d);
    case 'h': return Napi::Number::New(env, v.i);
    default: return Napi::String::New(env, v.s);
  }
}

/** busCall(bus, destination, path, interface, member, signature, args, timeoutMs) -> values */
Napi::Value BusCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bus& b = bus_arg(info, 0);
  const Api& a = api(env);
  std::string dest = string_arg(info, 1, "destination");
  std::string path = string_arg(info, 2, "path");
  std::string iface = string_arg(info, 3, "interface");
  std::string member = string_arg(info, 4, "member");
  std::string sig = string_arg(info, 5, "signature");
  if (!info[6].IsArray()) throw Napi::TypeError::New(env, "args must be an array");
  uint64_t timeout_us = static_cast<uint64_t>(int_arg(info, 7, "timeoutMs")) * 1000;

  sd_bus_message* m = nullptr;
  int r = a.sd_bus_message_new_method_call(b.bus, &m, dest.c_str(), path.c_str(), iface.c_str(), member.c_str());
  if (r < 0) throw bus_error(env, member.c_str(), r, nullptr);
  std::unique_ptr<sd_bus_message, decltype(a.sd_bus_message_unref)> msg(m, a.sd_bus_message_unref);
  append_each(env, a, m, sig, info[6].As<Napi::Array>());

  sd_bus_error err = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  r = a.sd_bus_call(b.bus, m, timeout_us, &err, &reply);
  if (r < 0) {
    Napi::Error e = bus_error(env, member.c_str(), r, &err);
    a.sd_bus_error_free(&err);
    throw e;
  }
  std::unique_ptr<sd_bus_message, decltype(a.sd_bus_message_unref)> rep(reply, a.sd_bus_message_unref);
  auto out = Napi::Array::New(env);
  read_rest(env, a, reply, out);
  return out;
}

/** busWaitJob(bus, jobPath, timeoutMs) -> the job's result ("done", "failed", ...) */
Napi::Value BusWaitJob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bus& b = bus_arg(info, 0);
  const Api& a = api(env);
  std::string job = string_arg(info, 1, "job");
  int64_t timeout_ms = int_arg(info, 2, "timeoutMs");
  struct timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t deadline = now.tv_sec * 1000000LL + now.tv_nsec / 1000 + timeout_ms * 1000;
  for (;;) {
    for (auto it = b.removed.begin(); it != b.removed.end(); ++it) {
      if (it->job == job) {
        std::string result = it->result;
        b.removed.erase(it);
        return Napi::String::New(env, result);
      }
    }
    int r = a.sd_bus_process(b.bus, nullptr);
    if (r < 0) throw bus_error(env, "sd_bus_process", r, nullptr);
    if (r > 0) continue;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left = deadline - (now.tv_sec * 1000000LL + now.tv_nsec / 1000);
    if (left <= 0) throw errno_error(env, "JobRemoved", ETIMEDOUT, job);
    r = a.sd_bus_wait(b.bus, static_cast<uint64_t>(left));
    if (r < 0 && r != -EINTR) throw bus_error(env, "sd_bus_wait", r, nullptr);
  }
}

}  // namespace

void register_dbus(Napi::Env env, Napi::Object exports) {
  exports.Set("busOpen", Napi::Function::New(env, BusOpen, "busOpen"));
  exports.Set("busClose", Napi::Function::New(env, BusClose, "busClose"));
  exports.Set("busCall", Napi::Function::New(env, BusCall, "busCall"));
  exports.Set("busWaitJob", Napi::Function::New(env, BusWaitJob, "busWaitJob"));
}

}  // namespace tsrun::napi

// Seccomp filters compiled in the parent with libseccomp, the one place it is linked.
// tsrun-init stays static and only loads the bytes this returns (cpp/init/seccomp.cc).
//
// TypeScript (src/seccomp/compile.ts) decides what the rules are (runc's semantics: rules
// equal to the default skipped, arguments compared on the same index split into separate
// rules); this file only feeds them to libseccomp and exports the program.
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"

namespace tsrun::napi {
namespace {

struct FilterCtx {
  scmp_filter_ctx ctx;
  explicit FilterCtx(uint32_t def) : ctx(seccomp_init(def)) {}
  ~FilterCtx() {
    if (ctx) seccomp_release(ctx);
  }
  FilterCtx(const FilterCtx&) = delete;
  FilterCtx& operator=(const FilterCtx&) = delete;
};

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

uint32_t u32_field(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(name) + " must be a number");
  return v.As<Napi::Number>().Uint32Value();
}

uint64_t u64_field(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsBigInt()) throw Napi::TypeError::New(o.Env(), std::string(name) + " must be a bigint");
  bool lossless = true;
  return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

Napi::Array array_field(const Napi::Object& o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string(name) + " must be an array");
  return v.As<Napi::Array>();
}

uint32_t arch_token(Napi::Env env, const std::string& name) {
  uint32_t token = seccomp_arch_resolve_name(name.c_str());
  if (token == 0) throw errno_error(env, "seccomp_arch_resolve_name", EINVAL, name);
  return token;
}

// A rule libseccomp refused: the index tells TypeScript which profile entry it came from.
Napi::Error rule_error(Napi::Env env, uint32_t index, const std::string& name, int err) {
  Napi::Error e = errno_error(env, "seccomp_rule_add", err, name);
  e.Set("rule", Napi::Number::New(env, index));
  return e;
}

std::vector<uint8_t> export_bpf(Napi::Env env, scmp_filter_ctx ctx) {
  // libseccomp 2.5 exports only to an fd; a memfd keeps it in memory.
  Fd mem(static_cast<int>(::syscall(SYS_memfd_create, "seccomp-bpf", MFD_CLOEXEC)));
  if (mem.fd < 0) throw errno_error(env, "memfd_create", errno);
  int rc = seccomp_export_bpf(ctx, mem.fd);
  if (rc < 0) throw errno_error(env, "seccomp_export_bpf", -rc);
  struct stat st;
  if (::fstat(mem.fd, &st) < 0) throw errno_error(env, "fstat", errno);
  std::vector<uint8_t> out(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(mem.fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw errno_error(env, "pread", n < 0 ? errno : EIO, "seccomp-bpf");
    done += static_cast<size_t>(n);
  }
  return out;
}

// compile({ defaultAction, arches: string[], optimize, rules: [{ name, action,
//   args: [{ index, op, value: bigint, valueTwo: bigint }] }] })
//   -> { bpf: Buffer, unknown: number[] (rules whose syscall libseccomp does not know) }
Napi::Value Compile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "request must be an object");
  Napi::Object req = info[0].As<Napi::Object>();
  uint32_t def = u32_field(req, "defaultAction");
  FilterCtx f(def);
  if (!f.ctx) throw errno_error(env, "seccomp_init", EINVAL, "default action not supported by libseccomp or the kernel");

  Napi::Array arches = array_field(req, "arches");
  for (uint32_t i = 0; i < arches.Length(); i++) {
    std::string name = arches.Get(i).As<Napi::String>().Utf8Value();
    int rc = seccomp_arch_add(f.ctx, arch_token(env, name));
    if (rc < 0 && rc != -EEXIST) throw errno_error(env, "seccomp_arch_add", -rc, name);
  }
  // A binary tree of syscalls instead of a list: what runc asks for on long profiles.
  // Older libseccomp lacks it and the filter is merely slower, so a failure is ignored.
  if (req.Get("optimize").ToBoolean()) (void)seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

  auto unknown = Napi::Array::New(env);
  uint32_t n_unknown = 0;
  Napi::Array rules = array_field(req, "rules");
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    std::string name = rule.Get("name").As<Napi::String>().Utf8Value();
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      unknown.Set(n_unknown++, Napi::Number::New(env, i));
      continue;
    }
    Napi::Array args = array_field(rule, "args");
    std::vector<struct scmp_arg_cmp> conds;
    for (uint32_t j = 0; j < args.Length(); j++) {
      Napi::Object a = args.Get(j).As<Napi::Object>();
      struct scmp_arg_cmp c{};
      c.arg = u32_field(a, "index");
      c.op = static_cast<enum scmp_compare>(u32_field(a, "op"));
      c.datum_a = u64_field(a, "value");
      c.datum_b = u64_field(a, "valueTwo");
      conds.push_back(c);
    }
    int rc = seccomp_rule_add_array(f.ctx, u32_field(rule, "action"), nr, static_cast<unsigned>(conds.size()),
                                    conds.empty() ? nullptr : conds.data());
    if (rc < 0) throw rule_error(env, i, name, -rc);
  }

  std::vector<uint8_t> bpf = export_bpf(env, f.ctx);
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", Napi::Buffer<uint8_t>::Copy(env, bpf.data(), bpf.size()));
  out.Set("unknown", unknown);
  return out;
}

// resolve(token, names) -> numbers of those syscalls on the arch (an SCMP_ARCH_* token) as
// the filter sees them (x32's carry the x32 bit); negative when unknown there
// (libseccomp's pseudo numbers included).
Napi::Value Resolve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "token must be a number");
  uint32_t token = info[0].As<Napi::Number>().Uint32Value();
  if (info.Length() < 2 || !info[1].IsArray()) throw Napi::TypeError::New(env, "names must be an array");
  Napi::Array names = info[1].As<Napi::Array>();
  auto out = Napi::Array::New(env, names.Length());
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    out.Set(i, Napi::Number::New(env, seccomp_syscall_resolve_name_arch(token, name.c_str())));
  }
  return out;
}

// archToken(name) -> libseccomp's SCMP_ARCH_* value (an AUDIT_ARCH_* value, x32 aside).
Napi::Value ArchToken(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), arch_token(info.Env(), string_arg(info, 0, "arch")));
}

Napi::Value NativeArch(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), seccomp_arch_native());
}

// flagsSupported(flags): whether seccomp(2) takes these SECCOMP_FILTER_FLAG_* bits. A
// null program makes the kernel check the flags, then fail to read the program (EFAULT)
// before anything is installed; unknown flags fail first with EINVAL.
Napi::Value FlagsSupported(const Napi::CallbackInfo& info) {
  uint32_t flags = static_cast<uint32_t>(int_arg(info, 0, "flags"));
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr);
  if (rc == 0) throw errno_error(info.Env(), "seccomp", EINVAL, "a null filter was accepted");
  return Napi::Boolean::New(info.Env(), errno == EFAULT);
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  const struct scmp_version* v = seccomp_version();
  return Napi::String::New(info.Env(), std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                           std::to_string(v->micro));
}

}  // namespace

void register_seccomp(Napi::Env env, Napi::Object exports) {
  auto s = Napi::Object::New(env);
  s.Set("compile", Napi::Function::New(env, Compile, "compile"));
  s.Set("resolve", Napi::Function::New(env, Resolve, "resolve"));
  s.Set("archToken", Napi::Function::New(env, ArchToken, "archToken"));
  s.Set("nativeArch", Napi::Function::New(env, NativeArch, "nativeArch"));
  s.Set("flagsSupported", Napi::Function::New(env, FlagsSupported, "flagsSupported"));
  s.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("seccomp", s);
}

}  // namespace tsrun::napi

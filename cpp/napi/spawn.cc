// Starting tsrun-init from Node without forking Node (cpp/sys/spawn.h says how), and the
// sealed memfd copy of tsrun-init it runs.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../sys/c_strings.h"
#include "../sys/spawn.h"
#include "errors.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace tsrun::napi {
namespace {

std::vector<std::string> string_array(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(name) + " must be an array");
  auto arr = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value item = arr.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(env, std::string(name) + " must hold strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

// sealExecutable(path, name) -> fd: a memfd holding a copy of path, sealed against
// writes, growth and shrinking, so nothing (not even a container that gets hold of
// /proc/<pid>/exe) can change what runs.
Napi::Value SealExecutable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_arg(info, 0, "path");
  std::string name = string_arg(info, 1, "name");
  int src = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) throw errno_error(env, "open", errno, path);
  struct stat st;
  if (::fstat(src, &st) < 0) {
    int e = errno;
    ::close(src);
    throw errno_error(env, "fstat", e, path);
  }
  unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  // Kernels with vm.memfd_noexec want MFD_EXEC said out loud; older ones reject the flag.
  int fd = ::memfd_create(name.c_str(), flags | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name.c_str(), flags);
  if (fd < 0) {
    int e = errno;
    ::close(src);
    throw errno_error(env, "memfd_create", e);
  }
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::sendfile(fd, src, nullptr, static_cast<size_t>(left));
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      ::close(src);
      ::close(fd);
      throw errno_error(env, "sendfile", e, path);
    }
    left -= n;
  }
  ::close(src);
  if (::fchmod(fd, 0555) < 0 ||
      ::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int e = errno;
    ::close(fd);
    throw errno_error(env, "seal memfd", e);
  }
  return Napi::Number::New(env, fd);
}

// spawn({ exeFd, argv, env, fds }) -> { pid, pidfd }
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  auto opts = info[0].As<Napi::Object>();
  if (!opts.Get("exeFd").IsNumber()) throw Napi::TypeError::New(env, "exeFd must be a number");
  int exe_fd = opts.Get("exeFd").As<Napi::Number>().Int32Value();
  auto argv_s = string_array(env, opts.Get("argv"), "argv");
  auto envp_s = string_array(env, opts.Get("env"), "env");
  if (argv_s.empty()) throw Napi::TypeError::New(env, "argv must not be empty");
  if (!opts.Get("fds").IsArray()) throw Napi::TypeError::New(env, "fds must be an array");
  auto fds_a = opts.Get("fds").As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < fds_a.Length(); i++) {
    Napi::Value v = fds_a.Get(i);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "fds must hold numbers");
    fds.push_back(v.As<Napi::Number>().Int32Value());
  }
  auto argv = sys::c_strings(argv_s);
  auto envp = sys::c_strings(envp_s);
  sys::Spawned child;
  const char* failed = "";
  // A cgroup v2 directory to start it in (CLONE_INTO_CGROUP), where this build can.
  int cgroup_fd = -1;
  Napi::Value cg = opts.Get("cgroup");
  if (sys::kSpawnIntoCgroup && cg.IsString()) {
    std::string dir = cg.As<Napi::String>().Utf8Value();
    cgroup_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) throw errno_error(env, "open", errno, dir);
  }
  int err = sys::spawn_executable(exe_fd, argv.data(), envp.data(), fds, &child, &failed, cgroup_fd);
  if (cgroup_fd >= 0) ::close(cgroup_fd);
  if (err != 0) throw errno_error(env, failed, err, "tsrun-init");
  auto result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, child.pid));
  result.Set("pidfd", Napi::Number::New(env, child.pidfd));
  result.Set("inCgroup", Napi::Boolean::New(env, cgroup_fd >= 0));
  return result;
}

}  // namespace

void register_spawn(Napi::Env env, Napi::Object exports) {
  exports.Set("sealExecutable", Napi::Function::New(env, SealExecutable, "sealExecutable"));
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
}

}  // namespace tsrun::napi

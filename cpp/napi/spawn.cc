// Starting tsrun-init from Node without forking Node.
//
// Node is multi-threaded, so a forked child may inherit locks held by other threads, and a
// fork copies the page tables of the whole heap. Instead: clone(CLONE_VM | CLONE_VFORK)
// (posix_spawn's trick: the child borrows our memory while this thread waits), move the
// fds into place, and execveat a sealed memfd copy of tsrun-init. Between the clone and
// the exec the child runs only dup/fcntl/execveat on memory prepared here before the
// clone, and all signals stay blocked: the mask survives the exec and tsrun-init resets
// dispositions and mask itself, so no Node or libuv handler can ever run in the child.
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../sys/c_strings.h"
#include "../sys/syscalls.h"
#include "errors.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace tsrun::napi {
namespace {

// Everything the child touches, prepared before the clone.
struct ChildArgs {
  int exe_fd;
  char** argv;
  char** envp;
  const int* fds;  // fds[i] becomes fd i; -1 becomes /dev/null
  int nfds;
  int dev_null;
  int* scratch;    // nfds + 1 slots
  int err;         // written by the child: errno of the failed call
};

int child_main(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  // First lift every source (and the executable) above the target range, so that placing
  // fd i can never overwrite a source still needed for a later slot.
  for (int i = 0; i < a->nfds; i++) {
    int src = a->fds[i] >= 0 ? a->fds[i] : a->dev_null;
    a->scratch[i] = ::fcntl(src, F_DUPFD_CLOEXEC, a->nfds);
    if (a->scratch[i] < 0) goto fail;
  }
  a->scratch[a->nfds] = ::fcntl(a->exe_fd, F_DUPFD_CLOEXEC, a->nfds);
  if (a->scratch[a->nfds] < 0) goto fail;
  for (int i = 0; i < a->nfds; i++) {
    if (::dup2(a->scratch[i], i) < 0) goto fail;  // dup2 clears close-on-exec on i
  }
  sys::execveat(a->scratch[a->nfds], "", a->argv, a->envp, AT_EMPTY_PATH);
fail:
  a->err = errno;
  ::_exit(127);
}

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
  std::vector<int> scratch(fds.size() + 1, -1);

  int dev_null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (dev_null < 0) throw errno_error(env, "open", errno, "/dev/null");
  const size_t stack_size = 64 * 1024;
  void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    int e = errno;
    ::close(dev_null);
    throw errno_error(env, "mmap", e);
  }

  ChildArgs args{exe_fd, argv.data(), envp.data(), fds.data(), static_cast<int>(fds.size()),
                 dev_null, scratch.data(), 0};
  int pidfd = -1;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::clone(child_main, static_cast<char*>(stack) + stack_size,
                      CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &args, &pidfd);
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, stack_size);
  ::close(dev_null);

  if (pid < 0) throw errno_error(env, "clone", clone_err);
  if (args.err != 0) {
    // The child never became tsrun-init; reap it here, it is nobody else's to wait for.
    siginfo_t si;
    ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED);
    ::close(pidfd);
    throw errno_error(env, "execveat", args.err, "tsrun-init");
  }
  auto result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("pidfd", Napi::Number::New(env, pidfd));
  return result;
}

}  // namespace

void register_spawn(Napi::Env env, Napi::Object exports) {
  exports.Set("sealExecutable", Napi::Function::New(env, SealExecutable, "sealExecutable"));
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
}

}  // namespace tsrun::napi

// The host side of SCMP_ACT_NOTIFY: taking the listener fd out of tsrun-init (pidfd_getfd,
// so the container never holds anything of the host's) and handing it to the seccomp
// agent with SCM_RIGHTS, which Node's net module cannot send.
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "../sys/scm.h"
#include "errors.h"

namespace tsrun::napi {
namespace {

// A copy of fd `target` of the process behind pidfd, close-on-exec.
Napi::Value PidfdGetfd(const Napi::CallbackInfo& info) {
  int pidfd = int_arg(info, 0, "pidfd");
  int target = int_arg(info, 1, "fd");
  int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, target, 0));
  if (fd < 0) throw errno_error(info.Env(), "pidfd_getfd", errno, "fd " + std::to_string(target));
  return Napi::Number::New(info.Env(), fd);
}

bool wait_writable(int fd) {
  struct pollfd p = {fd, POLLOUT, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 2000);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) errno = ETIMEDOUT;
  return rc > 0;
}

// sendWithFds(path, payload: Buffer, fds: number[]): one connection to the unix stream
// socket at path, the payload with the fds attached to its first byte, then close. Never
// blocks the event loop for long: a listener with a full backlog fails at once, a peer
// that stops reading fails after two seconds.
Napi::Value SendWithFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_arg(info, 0, "path");
  if (info.Length() < 3 || !info[1].IsBuffer() || !info[2].IsArray()) {
    throw Napi::TypeError::New(env, "payload must be a Buffer and fds an array");
  }
  auto payload = info[1].As<Napi::Buffer<uint8_t>>();
  Napi::Array list = info[2].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < list.Length(); i++) fds.push_back(list.Get(i).As<Napi::Number>().Int32Value());
  if (payload.Length() == 0) throw Napi::TypeError::New(env, "payload must not be empty");

  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) throw errno_error(env, "connect", ENAMETOOLONG, path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (sock < 0) throw errno_error(env, "socket", errno);
  auto fail = [&](const char* call, int err) {
    ::close(sock);
    return errno_error(env, call, err, path);
  };
  int rc;
  do {
    rc = ::connect(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) throw fail("connect", errno);

  size_t sent = 0;
  while (sent < payload.Length()) {
    // The fds go with the first byte; whatever follows is plain data.
    ssize_t n = sent == 0 ? sys::send_with_fds(sock, payload.Data(), payload.Length(), fds.data(), fds.size(), 0)
                          : sys::send_with_fds(sock, payload.Data() + sent, payload.Length() - sent, nullptr, 0, 0);
    if (n < 0 && errno == EAGAIN) {
      if (!wait_writable(sock)) throw fail("sendmsg", errno);
      continue;
    }
    if (n < 0) throw fail("sendmsg", errno);
    sent += static_cast<size_t>(n);
  }
  ::close(sock);
  return env.Undefined();
}

}  // namespace

void register_seccomp_agent(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdGetfd", Napi::Function::New(env, PidfdGetfd, "pidfdGetfd"));
  exports.Set("sendWithFds", Napi::Function::New(env, SendWithFds, "sendWithFds"));
}

}  // namespace tsrun::napi

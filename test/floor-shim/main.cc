// containerd-shim-floor-v2: the fastest shim there can be, for measuring containerd's own
// share of `ctr run --rm` (bench section a's floor). It runs nothing: `start` leaves a
// server that answers every Task call at once (Create and Start with its own pid, Wait and
// Delete with exit 0 now), and `delete` prints the same DeleteResponse. What a real shim
// costs beyond this is the shim's.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../cpp/shim/common.h"
#include "../../cpp/shim/pb.h"
#include "../../cpp/shim/proto.h"
#include "../../cpp/shim/sha256.h"

namespace pb = tsrun::pb;
namespace proto = tsrun::shim::proto;
using tsrun::shim::write_all;

namespace {

constexpr size_t kHeader = 10;  // ttrpc: length u32, stream u32, type u8, flags u8 (big-endian)
constexpr int kUnimplemented = 12;

bool read_exact(int fd, char* buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = ::read(fd, buf + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string now() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::string out;
  pb::put_int(&out, 1, ts.tv_sec);
  pb::put_int(&out, 2, ts.tv_nsec);
  return out;
}

// ttrpc.Response{payload}: a call answered (its status OK, left out).
std::string ok_response(const std::string& payload) {
  std::string out;
  pb::put_bytes(&out, 2, payload);
  return out;
}

// The method a ttrpc.Request calls; empty when the bytes are not a request.
std::string method_of(const std::string& request) {
  std::string method;
  pb::each_field(request, [&](const pb::Field& f) {
    if (f.number == 2 && f.type == pb::kBytes) method = std::string(f.bytes);
  });
  return method;
}

std::string exited_now() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return proto::delete_response(static_cast<uint32_t>(::getpid()), 0, ts.tv_sec, static_cast<int32_t>(ts.tv_nsec));
}

// The answer to each Task method: {pid} for Create and Start, exit 0 now for Wait and
// Delete, STOPPED for State, the shim's pid for Connect, empty for the rest.
bool answer(const std::string& method, std::string* payload, bool* shutdown) {
  std::string pid;
  pb::put_uint(&pid, 1, static_cast<uint64_t>(::getpid()));
  if (method == "Create" || method == "Start") *payload = pid;
  else if (method == "Delete") *payload = exited_now();
  else if (method == "Wait") {
    payload->clear();
    pb::put_bytes(payload, 2, now());
  } else if (method == "State") {
    payload->clear();
    pb::put_uint(payload, 3, static_cast<uint64_t>(::getpid()));
    pb::put_uint(payload, 4, 3);  // STOPPED: it ran and exited at once
    pb::put_bytes(payload, 10, now());
  } else if (method == "Connect") {
    *payload = pid;
    pb::put_uint(payload, 2, static_cast<uint64_t>(::getpid()));
  } else if (method == "Shutdown") {
    payload->clear();
    *shutdown = true;
  } else if (method == "Kill" || method == "Pids" || method == "CloseIO" || method == "ResizePty" || method == "Update" ||
             method == "Pause" || method == "Resume" || method == "Exec" || method == "Stats") {
    payload->clear();
  } else {
    return false;
  }
  return true;
}

// Serves one connection until it closes (false) or asks for Shutdown (true).
bool serve(int conn) {
  bool shutdown = false;
  while (!shutdown) {
    char header[kHeader];
    if (!read_exact(conn, header, kHeader)) return false;
    uint32_t len = (uint32_t(uint8_t(header[0])) << 24) | (uint32_t(uint8_t(header[1])) << 16) |
                   (uint32_t(uint8_t(header[2])) << 8) | uint32_t(uint8_t(header[3]));
    std::string body(len, '\0');
    if (len > (4u << 20) || !read_exact(conn, body.data(), len)) return false;
    std::string method = method_of(body);
    std::string reply;
    std::string payload;
    if (answer(method, &payload, &shutdown)) reply = ok_response(payload);
    else reply = proto::error_response(kUnimplemented, method + " is not served by the floor shim");
    std::string out(header, kHeader);
    uint32_t rlen = static_cast<uint32_t>(reply.size());
    for (int i = 0; i < 4; i++) out[i] = static_cast<char>((rlen >> (24 - 8 * i)) & 0xff);
    out[8] = 2;  // response
    out[9] = 0;
    if (!write_all(conn, out + reply)) return false;
  }
  return true;
}

std::string flag(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string action = argc > 1 ? argv[argc - 1] : "";
  if (action == "delete") {
    write_all(1, exited_now());
    return 0;
  }
  if (action != "start") return 1;
  const char* dir = ::getenv("TSRUN_SHIM_SOCKET_DIR");
  std::string socket = std::string(dir && *dir ? dir : "/run/containerd/s") + "/floor-" +
                       tsrun::shim::sha256_hex(flag(argc, argv, "-address") + "/" + flag(argc, argv, "-namespace") + "/" + flag(argc, argv, "-id")).substr(0, 32);
  ::unlink(socket.c_str());
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket.c_str(), std::min(socket.size() + 1, sizeof(addr.sun_path) - 1));
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0 || ::listen(lfd, 16) < 0) return 1;
  pid_t pid = ::fork();
  if (pid < 0) return 1;
  if (pid > 0) {
    write_all(1, "unix://" + socket);
    return 0;
  }
  ::setsid();
  int null = ::open("/dev/null", O_RDWR);
  ::dup2(null, 0);
  ::dup2(null, 1);
  ::dup2(null, 2);
  ::signal(SIGPIPE, SIG_IGN);
  // One connection at a time is all containerd opens to a task's shim in `ctr run --rm`;
  // an idle minute ends a shim nobody shut down.
  for (;;) {
    struct pollfd p = {lfd, POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) break;
    int conn = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    bool shut = serve(conn);
    ::close(conn);
    if (shut) break;
  }
  ::unlink(socket.c_str());
  return 0;
}

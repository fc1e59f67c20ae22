#include "common.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sha256.h"

extern char** environ;

#ifndef TSRUN_NODE_EXECUTABLE
#define TSRUN_NODE_EXECUTABLE "node"
#endif

namespace tsrun::shim {

namespace {

// A shim server's heap stays small (a few containers' state), so its young generation need
// not grow to V8's default 16 MiB semi-spaces; and its code runs a few times per container,
// never hot enough for the optimizing compiler that --lite-mode leaves out. Measured with
// bench/ section (e), 10 servers: 225 MiB PSS without flags, 219 with the first, 192 with
// both. --no-expose-wasm says what lite mode does anyway, and V8 no longer writes a warning
// that it turned the flag off to stderr (the log) at every server start.
// --v8-pool-size=1 --single-threaded-gc: V8's garbage collection runs on the main thread and
// one platform worker is left instead of four (19 threads instead of 22): on a heap this
// small the marking is short, and the helpers' stacks and malloc arenas are memory held for
// the server's lifetime. One namespace-grouped server serving 10 containers, anon + [heap]
// over 6 rounds: 12.68-12.76 MiB against 12.71-13.68 (median 12.94) without, steadier too.
// --gc-memory-reducer-start-delay-ms=1000: V8 gives an idle heap's garbage and free pages
// back only when its memory reducer sees no allocation, which it first looks for 8 s after a
// full collection (tuned for browser tabs). A shim server is idle but for short bursts of
// calls (containers starting, execs), and a burst leaves megabytes behind: looking after 1 s
// returns them that much sooner. One namespace-grouped server, 10 containers, 1 s after the
// last start: Private_Dirty 13.4 MiB with 8 s, 10.5-11.1 with 1 s (0.5 s: 11.5-11.9, a
// reducer that runs inside the burst and is done before its end; 2 s: 12.2).
// --bytecode-old-age=1: V8 drops a function's bytecode once it has gone unrun through this
// many full collections (5 by default). Much of a server's code runs once: the bundle's
// top level with the protobuf descriptors it decodes, start-up, a create's first steps; a
// function needed again compiles again (lazily, as it did the first time). One namespace-
// grouped server, 10 containers, settled: Private_Dirty 8.46 -> 8.04 MiB (2: 8.47); `ctr
// run --rm` after 3 s idle showed no difference beyond noise (102-142 ms medians, either).
constexpr const char* kServerNodeFlags =
    "--max-semi-space-size=1 --lite-mode --no-expose-wasm --v8-pool-size=1 --single-threaded-gc "
    "--gc-memory-reducer-start-delay-ms=1000 --bytecode-old-age=1";

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string self_executable() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) die("cannot read /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

std::string package_root() { return dirname_of(dirname_of(dirname_of(self_executable()))); }

std::string server_script() {
  std::string root = package_root();
  std::string bundle = root + "/dist/bundle/shim.cjs";
  return ::access(bundle.c_str(), R_OK) == 0 ? bundle : root + "/dist/shim/main.js";
}

std::vector<std::string> server_command() {
  std::vector<std::string> argv = {node_executable()};
  const char* env = ::getenv("TSRUN_SHIM_NODE_FLAGS");
  std::string flags = env ? env : kServerNodeFlags;
  size_t start = 0;
  while (start < flags.size()) {
    size_t end = flags.find(' ', start);
    if (end == std::string::npos) end = flags.size();
    if (end > start) argv.push_back(flags.substr(start, end - start));
    start = end + 1;
  }
  argv.push_back(server_script());
  return argv;
}

std::vector<std::string> server_environment() {
  static const std::string kName = "NODE_EXTRA_CA_CERTS=";
  static const std::string kRenamed = "TSRUN_SHIM_" + kName;
  std::vector<std::string> env;
  for (char** e = environ; *e; e++) {
    std::string entry = *e;
    if (entry.compare(0, kRenamed.size(), kRenamed) == 0) continue;  // only what we rename comes back
    if (entry.compare(0, kName.size(), kName) == 0) entry = "TSRUN_SHIM_" + entry;
    env.push_back(std::move(entry));
  }
  return env;
}

std::string node_executable() {
  const char* env = ::getenv("TSRUN_NODE");
  if (env && *env) return env;
  if (::access(TSRUN_NODE_EXECUTABLE, X_OK) == 0) return TSRUN_NODE_EXECUTABLE;
  const char* path = ::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = (end > start ? dirs.substr(start, end - start) : ".") + "/node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "node";
}

std::string state_root(const std::string& ns, const std::string& bundle) {
  std::string base;
  if (read_file(bundle + "/runtime-root", &base)) base = trim(base);
  if (base.empty()) {
    const char* env = ::getenv("TSRUN_SHIM_ROOT");
    base = env && *env ? env : "/run/containerd/ts";
  }
  return base + "/" + ns;
}

std::string socket_dir() {
  const char* env = ::getenv("TSRUN_SHIM_SOCKET_DIR");
  return env && *env ? env : "/run/containerd/s";
}

bool read_file(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool write_file_atomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write_all(fd, data);
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) < 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string group_socket(const Args& args, const std::string& group) {
  return socket_dir() + "/" + sha256_hex(args.address + "/" + args.ns + "/" + group);
}

std::string strip_unix(const std::string& address) {
  const std::string prefix = "unix://";
  return address.compare(0, prefix.size(), prefix) == 0 ? address.substr(prefix.size()) : address;
}

void die(const std::string& message) {
  std::string line = "containerd-shim-ts-v2: " + message + "\n";
  write_all(2, line);
  ::_exit(1);
}

}  // namespace tsrun::shim

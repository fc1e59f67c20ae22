// `containerd-shim-ts-v2 upgrade`: running pods get the tsrun installed now, without being
// touched. Install the new tsrun over the old one (the same path), then run this: every
// brain of the socket directory is told to retire (SIGUSR2); each lets its keepers leave it
// once it has answered what it was answering, and their groups are taken over, from the
// journals the keepers hold, by brains started from the new build. The keepers themselves
// (native, holding the containers' processes, stdio and connections) stay as they are.
// The waiting spares go first (their socket files are removed; a spare whose file is not
// its own exits), so that no new brain is an old spare.
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "actions.h"
#include "common.h"

namespace tsrun::shim {
namespace {

constexpr int kWaitMs = 60000;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// The process listening at a socket path: not its peer credentials (those name whoever
// called listen(), a `start` long gone), but the process holding the listening socket, found
// by the socket's inode in /proc/net/unix and then among /proc/<pid>/fd.
pid_t listener_of(const std::string& path) {
  std::string table;
  if (!read_file("/proc/net/unix", &table)) return -1;
  std::string inode;
  size_t pos = 0;
  while (pos < table.size()) {
    size_t end = table.find('\n', pos);
    if (end == std::string::npos) end = table.size();
    std::string line = table.substr(pos, end - pos);
    pos = end + 1;
    // Num RefCount Protocol Flags Type St Inode Path; listening: Flags 00010000
    std::vector<std::string> f;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') i++;
      size_t j = line.find(' ', i);
      if (j == std::string::npos) j = line.size();
      if (j > i) f.push_back(line.substr(i, j - i));
      i = j;
    }
    if (f.size() >= 8 && f[7] == path && f[3] == "00010000") inode = f[6];
  }
  if (inode.empty()) return -1;
  std::string want = "socket:[" + inode + "]";
  DIR* proc = ::opendir("/proc");
  if (!proc) return -1;
  pid_t found = -1;
  while (struct dirent* e = ::readdir(proc)) {
    if (found > 0 || e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string fds = std::string("/proc/") + e->d_name + "/fd";
    DIR* fd = ::opendir(fds.c_str());
    if (!fd) continue;
    while (struct dirent* x = ::readdir(fd)) {
      char link[64];
      ssize_t n = ::readlink((fds + "/" + x->d_name).c_str(), link, sizeof(link) - 1);
      if (n > 0 && want == std::string(link, static_cast<size_t>(n))) {
        found = static_cast<pid_t>(std::atoi(e->d_name));
        break;
      }
    }
    ::closedir(fd);
  }
  ::closedir(proc);
  return found;
}

}  // namespace

int run_upgrade(const Args&) {
  std::string dir = socket_dir();
  DIR* d = ::opendir(dir.c_str());
  if (!d) die("open " + dir + ": " + std::strerror(errno));
  std::vector<std::string> spares, brains;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (starts_with(name, "spare-")) spares.push_back(dir + "/" + name);
    if (starts_with(name, "host-") || starts_with(name, "brain-")) brains.push_back(dir + "/" + name);
  }
  ::closedir(d);
  for (const auto& s : spares) ::unlink(s.c_str());
  std::vector<std::pair<pid_t, std::string>> retiring;
  for (const auto& b : brains) {
    pid_t pid = listener_of(b);
    if (pid <= 0 || ::kill(pid, SIGUSR2) < 0) continue;  // a dead brain's file: its keepers start the next one
    retiring.emplace_back(pid, b);
  }
  struct timespec step = {0, 50 * 1000 * 1000};
  for (int waited = 0; waited < kWaitMs; waited += 50) {
    bool all = true;
    for (const auto& [pid, path] : retiring) all = all && ::kill(pid, 0) < 0;
    if (all) break;
    ::nanosleep(&step, nullptr);
  }
  int left = 0;
  for (const auto& [pid, path] : retiring) {
    bool gone = ::kill(pid, 0) < 0;
    left += gone ? 0 : 1;
    write_all(1, "brain " + std::to_string(pid) + " at " + path + (gone ? ": retired\n" : ": still running\n"));
  }
  write_all(1, std::to_string(retiring.size() - left) + " brains retired; their groups are served by the build installed now\n");
  return left == 0 ? 0 : 1;
}

}  // namespace tsrun::shim

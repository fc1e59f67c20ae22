#include "shim-cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "common.h"
#include "pb.h"

namespace tsrun::shim {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string shim_cgroup_of(const std::string& options) {
  std::string type_url;
  std::string_view value;
  if (!pb::each_field(options, [&](const pb::Field& f) {
        if (f.number == 1 && f.type == pb::kBytes) type_url = std::string(f.bytes);
        if (f.number == 2 && f.type == pb::kBytes) value = f.bytes;
      })) {
    return "";
  }
  int field = ends_with(type_url, "containerd.runc.v1.Options") ? 3 : ends_with(type_url, "containerd.linux.runc.CreateOptions") ? 9 : 0;
  if (field == 0) return "";
  std::string out;
  pb::each_field(value, [&](const pb::Field& f) {
    if (f.number == field && f.type == pb::kBytes) out = std::string(f.bytes);
  });
  return out;
}

bool join_cgroup(pid_t pid, const std::string& path, std::string* error) {
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  std::vector<std::string> dirs;
  if (::access((std::string(kCgroupRoot) + "/cgroup.controllers").c_str(), F_OK) == 0) {
    dirs.push_back(std::string(kCgroupRoot) + "/" + rel);
  } else {
    // v1 (or hybrid): each hierarchy once (cpu and cpuacct are links to one), and the
    // unified tree of a hybrid host.
    std::set<std::string> seen;
    DIR* d = ::opendir(kCgroupRoot);
    if (!d) {
      *error = std::string("open ") + kCgroupRoot + ": " + std::strerror(errno);
      return false;
    }
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      char real[PATH_MAX];
      std::string h = std::string(kCgroupRoot) + "/" + e->d_name;
      if (!::realpath(h.c_str(), real) || !seen.insert(real).second) continue;
      dirs.push_back(std::string(real) + "/" + rel);
    }
    ::closedir(d);
  }
  int joined = 0;
  for (const auto& dir : dirs) {
    if (!is_dir(dir)) continue;
    std::string procs = dir + "/cgroup.procs";
    int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    std::string text = std::to_string(pid);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      *error = "write " + procs + ": " + std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return false;
    }
    ::close(fd);
    joined++;
  }
  if (joined == 0) {
    *error = "no cgroup hierarchy has " + path;
    return false;
  }
  return true;
}

}  // namespace tsrun::shim

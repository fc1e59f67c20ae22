#include "mountinfo.h"

#include "paths.h"

namespace tsrun::init {
namespace {

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; k++) {
        char c = s[i + k];
        if (c < '0' || c > '7') octal = false;
        v = v * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

bool is_prefix_path(const std::string& prefix, const std::string& path) {
  if (prefix == "/") return true;
  return path.compare(0, prefix.size(), prefix) == 0 &&
         (path.size() == prefix.size() || path[prefix.size()] == '/');
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string::npos) j = line.size();
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

bool read_mountinfo(std::vector<MountInfo>* out) {
  std::string text;
  if (!read_text("/proc/self/mountinfo", &text)) return false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    // id parent major:minor root mountpoint options [optional...] - fstype source superopts
    std::vector<std::string> f = split_fields(text.substr(start, end - start));
    start = end + 1;
    if (f.size() < 7) continue;
    MountInfo m;
    m.root = unescape(f[3]);
    m.mountpoint = unescape(f[4]);
    size_t k = 6;
    for (; k < f.size() && f[k] != "-"; k++) {
      if (!m.optional.empty()) m.optional += " ";
      m.optional += f[k];
    }
    if (k + 1 < f.size()) m.fstype = f[k + 1];
    out->push_back(std::move(m));
  }
  return true;
}

const MountInfo* mount_containing(const std::vector<MountInfo>& mounts, const std::string& path) {
  const MountInfo* best = nullptr;
  for (const auto& m : mounts) {
    if (!is_prefix_path(m.mountpoint, path)) continue;
    // Later lines are mounted on top of earlier ones at the same point.
    if (!best || m.mountpoint.size() >= best->mountpoint.size()) best = &m;
  }
  return best;
}

}  // namespace tsrun::init

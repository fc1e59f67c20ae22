// /proc/self/mountinfo, parsed.
#pragma once
#include <string>
#include <vector>

namespace tsrun::init {

struct MountInfo {
  std::string root;        // root of the mount within its filesystem
  std::string mountpoint;  // octal escapes decoded
  std::string optional;    // optional fields, e.g. "shared:1 master:2"
  std::string fstype;
};

// Returns false with errno set when the file cannot be read.
bool read_mountinfo(std::vector<MountInfo>* out);

// The mount whose mount point is the longest prefix of path (path must be clean).
const MountInfo* mount_containing(const std::vector<MountInfo>& mounts, const std::string& path);

}  // namespace tsrun::init

// Reads the plan's wire format: little-endian integers, strings as u32 length + bytes,
// lists as u32 count + items, fields in the order of plan.h. src/native/plan-wire.ts writes
// the same order.
#include "plan.h"

#include <cstring>

namespace tsrun::plan {
namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t len) : p_(data), end_(data + len) {}

  bool ok() const { return ok_; }
  bool at_end() const { return p_ == end_; }

  template <typename T>
  T num() {
    T v{};
    if (!take(sizeof(T))) return v;
    std::memcpy(&v, p_ - sizeof(T), sizeof(T));
    return v;
  }
  uint8_t u8() { return num<uint8_t>(); }
  uint32_t u32() { return num<uint32_t>(); }
  int32_t i32() { return num<int32_t>(); }
  uint64_t u64() { return num<uint64_t>(); }
  bool flag() { return u8() != 0; }

  std::string str() {
    uint32_t n = u32();
    if (!take(n)) return {};
    return std::string(reinterpret_cast<const char*>(p_ - n), n);
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v;
    uint32_t n = count();
    for (uint32_t i = 0; i < n && ok_; i++) v.push_back(str());
    return v;
  }
  // A list count, refused when it cannot fit in what is left (each item is >= 1 byte).
  uint32_t count() {
    uint32_t n = u32();
    if (n > static_cast<size_t>(end_ - p_)) ok_ = false;
    return ok_ ? n : 0;
  }

 private:
  bool take(size_t n) {
    if (!ok_ || n > static_cast<size_t>(end_ - p_)) {
      ok_ = false;
      return false;
    }
    p_ += n;
    return true;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

void read_op(Reader& r, RootfsOp& op) {
  op.kind = static_cast<OpKind>(r.u8());
  op.config_index = r.i32();
  op.source = r.str();
  op.dest = r.str();
  op.fstype = r.str();
  op.data = r.str();
  op.flags = r.u64();
  uint32_t n = r.count();
  for (uint32_t i = 0; i < n && r.ok(); i++) op.propagation.push_back(r.u64());
  op.dev_type = static_cast<char>(r.u8());
  op.dev_major = r.u32();
  op.dev_minor = r.u32();
  op.mode = r.u32();
  op.uid = r.u32();
  op.gid = r.u32();
  op.attr_set = r.u64();
  op.attr_clr = r.u64();
  op.attr_recursive = r.flag();
  for (auto* maps : {&op.uid_mappings, &op.gid_mappings}) {
    uint32_t n2 = r.count();
    for (uint32_t i = 0; i < n2 && r.ok(); i++) {
      IdMap m;
      m.container_id = r.u32();
      m.host_id = r.u32();
      m.size = r.u32();
      maps->push_back(m);
    }
  }
  op.copy_up = r.flag();
}

void read_hooks(Reader& r, std::vector<Hook>& hooks) {
  uint32_t n = r.count();
  for (uint32_t i = 0; i < n && r.ok(); i++) {
    Hook h;
    h.path = r.str();
    h.args = r.strs();
    h.env = r.strs();
    h.timeout_s = r.i32();
    hooks.push_back(h);
  }
}

std::vector<uint32_t> read_u32s(Reader& r) {
  std::vector<uint32_t> v;
  uint32_t n = r.count();
  for (uint32_t i = 0; i < n && r.ok(); i++) v.push_back(r.u32());
  return v;
}

void read_process(Reader& r, Process& p) {
  p.args = r.strs();
  p.env = r.strs();
  p.cwd = r.str();
  p.uid = r.u32();
  p.gid = r.u32();
  uint32_t n = r.count();
  for (uint32_t i = 0; i < n && r.ok(); i++) p.additional_gids.push_back(r.u32());
  p.umask = r.i32();
  for (auto& c : p.caps) c = r.u64();
  n = r.count();
  for (uint32_t i = 0; i < n && r.ok(); i++) {
    Rlimit rl;
    rl.resource = r.i32();
    rl.soft = r.u64();
    rl.hard = r.u64();
    p.rlimits.push_back(rl);
  }
  p.no_new_privileges = r.flag();
  p.terminal = r.flag();
  p.keep_groups = r.flag();
  p.console_height = r.u32();
  p.console_width = r.u32();
}

}  // namespace

bool decode(const uint8_t* data, size_t len, Plan* out, std::string* why) {
  Reader r(data, len);
  uint32_t version = r.u32();
  if (r.ok() && version != kPlanVersion) {
    *why = "plan version " + std::to_string(version) + ", expected " + std::to_string(kPlanVersion);
    return false;
  }
  Plan& p = *out;
  p.container_id = r.str();
  uint32_t n = r.count();
  for (uint32_t i = 0; i < n && r.ok(); i++) {
    Namespace ns;
    ns.type = static_cast<NsType>(r.u8());
    ns.path = r.str();
    p.namespaces.push_back(ns);
  }
  p.rootfs = r.str();
  p.rootfs_propagation = r.u64();
  p.no_pivot = r.flag();
  p.readonly_root = r.flag();
  p.readonly_dev = r.flag();
  p.new_keyring = r.flag();
  n = r.count();
  for (uint32_t i = 0; i < n && r.ok(); i++) {
    RootfsOp op{};
    read_op(r, op);
    p.rootfs_ops.push_back(op);
  }
  p.has_hostname = r.flag();
  p.hostname = r.str();
  p.has_domainname = r.flag();
  p.domainname = r.str();
  p.readonly_paths = r.strs();
  p.masked_paths = r.strs();
  read_process(r, p.process);
  p.fifo_fd = r.i32();
  p.console_socket_fd = r.i32();
  p.preserve_fds = r.u32();
  p.mode = static_cast<Mode>(r.u8());
  p.join_fd = r.i32();
  p.userns_maps = r.flag();
  p.time_offsets = r.flag();
  p.monotonic_secs = r.num<int64_t>();
  p.monotonic_nsecs = r.u32();
  p.boottime_secs = r.num<int64_t>();
  p.boottime_nsecs = r.u32();
  p.hooks_sync = r.flag();
  read_hooks(r, p.create_container_hooks);
  read_hooks(r, p.start_container_hooks);
  n = r.count();
  for (uint32_t i = 0; i < n && r.ok(); i++) {
    Sysctl sc;
    sc.key = r.str();
    sc.value = r.str();
    p.sysctl.push_back(sc);
  }
  p.has_oom_score_adj = r.flag();
  p.oom_score_adj = r.i32();
  p.has_personality = r.flag();
  p.personality = r.u32();
  p.has_scheduler = r.flag();
  p.scheduler.policy = r.u32();
  p.scheduler.nice = r.i32();
  p.scheduler.priority = r.u32();
  p.scheduler.flags = r.u64();
  p.scheduler.runtime = r.u64();
  p.scheduler.deadline = r.u64();
  p.scheduler.period = r.u64();
  p.io_priority = r.i32();
  p.cpus_initial = read_u32s(r);
  p.cpus_final = read_u32s(r);
  p.apparmor_profile = r.str();
  p.selinux_label = r.str();
  p.seccomp_bpf = r.str();
  p.seccomp_flags = r.u32();
  if (!r.ok()) {
    *why = "truncated plan";
    return false;
  }
  if (!r.at_end()) {
    *why = "trailing bytes after the plan";
    return false;
  }
  return true;
}

}  // namespace tsrun::plan

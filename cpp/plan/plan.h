// The plan: everything tsrun-init needs to build one container, as plain data. TypeScript
// builds it from config.json (src/runtime/plan/) and encodes it (src/native/plan-wire.ts);
// decode.cc reads it in tsrun-init. The two sides must change together: bump kPlanVersion.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tsrun::plan {

constexpr uint32_t kPlanVersion = 6;

enum class NsType : uint8_t { Mount = 1, Uts, Ipc, Net, Pid, User, Cgroup, Time };

struct Namespace {
  NsType type;
  std::string path;  // empty: create a new one
};

// The rootfs is built by running these operations in order. TypeScript expands the config
// (default devices, /dev symlinks, cgroup mounts) so that tsrun-init only executes.
enum class OpKind : uint8_t {
  Mount = 1,       // mount(source, dest, fstype, flags, data), then propagation
  Bind = 2,        // bind source (a host path) on dest, remount with flags, then propagation
  Mknod = 3,       // device node at dest
  BindDevice = 4,  // bind the host's device node source on dest (no mknod in a user ns)
  Symlink = 5,     // symlink dest -> source; flags & kReplace: replace what dest was
};

constexpr uint64_t kReplace = 1;

struct IdMap {
  uint32_t container_id, host_id, size;
};

struct RootfsOp {
  OpKind kind;
  int32_t config_index;  // index into config.json's mounts or devices, -1 if runtime-added
  std::string source;
  std::string dest;  // inside the rootfs
  std::string fstype;
  std::string data;
  uint64_t flags;  // MS_* flags; for Bind, the flags of the remount (0 = none)
  std::vector<uint64_t> propagation;
  char dev_type;  // 'c', 'b', 'p' for Mknod
  uint32_t dev_major, dev_minor, mode, uid, gid;
  // mount_setattr(2) after the mount, for rro, rnosuid... (0, 0: none)
  uint64_t attr_set, attr_clr;
  bool attr_recursive;
  // an id-mapped bind (idmap, ridmap): the source seen through these mappings
  std::vector<IdMap> uid_mappings, gid_mappings;
  // a tmpfs that starts with a copy of what the directory it covers holds (tmpcopyup)
  bool copy_up = false;
};

struct Rlimit {
  int32_t resource;
  uint64_t soft, hard;
};

enum CapSet { kBounding = 0, kEffective, kPermitted, kInheritable, kAmbient, kCapSets };

struct Process {
  std::vector<std::string> args, env;
  std::string cwd;
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  int32_t umask = -1;  // -1: runc's default 0022
  uint64_t caps[kCapSets] = {};
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  bool terminal = false;
  // An unprivileged caller's process keeps the supplementary groups it inherited, as runc's
  // does: dropping one could open what that group is denied.
  bool keep_groups = false;
  uint32_t console_height = 0, console_width = 0;
};

enum class Mode : uint8_t { Create = 0, Exec = 1 };

struct Hook {
  std::string path;
  std::vector<std::string> args, env;
  int32_t timeout_s = 0;  // 0: no timeout
};

struct Sysctl {
  std::string key, value;
};

struct Scheduler {
  uint32_t policy = 0;
  int32_t nice = 0;
  uint32_t priority = 0;
  uint64_t flags = 0, runtime = 0, deadline = 0, period = 0;
};

struct Plan {
  std::string container_id;
  std::vector<Namespace> namespaces;
  std::string rootfs;  // absolute host path
  uint64_t rootfs_propagation = 0;  // 0: MS_SLAVE|MS_REC, as runc
  bool no_pivot = false;
  bool readonly_root = false;
  bool readonly_dev = false;  // /dev is mounted rw for the device nodes, then remounted ro
  bool new_keyring = true;
  std::vector<RootfsOp> rootfs_ops;
  bool has_hostname = false, has_domainname = false;
  std::string hostname, domainname;
  std::vector<std::string> readonly_paths, masked_paths;
  Process process;
  // fd numbers in tsrun-init, -1 when absent
  int32_t fifo_fd = -1;            // O_PATH fd of <state>/exec.fifo
  int32_t console_socket_fd = -1;  // connected --console-socket
  uint32_t preserve_fds = 0;       // fds 3 .. 3+n-1 stay open for the container

  // exec: join a running container instead of making one
  Mode mode = Mode::Create;
  int32_t join_fd = -1;  // pidfd of the container's init; its namespaces are in `namespaces`

  // a new user namespace: the parent writes its maps when asked
  bool userns_maps = false;
  // a new time namespace's offsets, written before its first process
  bool time_offsets = false;
  int64_t monotonic_secs = 0, boottime_secs = 0;
  uint32_t monotonic_nsecs = 0, boottime_nsecs = 0;
  // prestart/createRuntime run in the parent at the HOOKS sync point; these in the container
  bool hooks_sync = false;
  std::vector<Hook> create_container_hooks, start_container_hooks;
  std::vector<Sysctl> sysctl;
  bool has_oom_score_adj = false;
  int32_t oom_score_adj = 0;
  bool has_personality = false;
  uint32_t personality = 0;
  bool has_scheduler = false;
  Scheduler scheduler;
  int32_t io_priority = -1;  // an ioprio value, -1: leave it
  std::vector<uint32_t> cpus_initial, cpus_final;
  std::string apparmor_profile, selinux_label;

  // Seccomp: a classic BPF program (struct sock_filter[]) compiled in the parent, loaded by
  // tsrun-init as late as it can (cpp/init/seccomp.h); empty: no filter.
  std::string seccomp_bpf;
  uint32_t seccomp_flags = 0;  // seccomp(2) SECCOMP_FILTER_FLAG_* bits
};

// Decodes the wire bytes; on failure returns false with a reason in *why.
bool decode(const uint8_t* data, size_t len, Plan* out, std::string* why);

}  // namespace tsrun::plan

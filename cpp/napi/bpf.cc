// The cgroup v2 device policy: v2 has no devices.allow/deny files, so the policy is an eBPF
// program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup. The
// program is built here from rules the cgroup layer has already reduced (one default
// action plus exceptions that all take the other action), loaded with BPF_PROG_LOAD and
// attached with BPF_F_ALLOW_MULTI; programs attached before (an earlier policy of the same
// cgroup) are detached afterwards, so there is never a moment without a policy.
//
// Program layout, as runc and crun build it:
//   r2 = ctx->access_type & 0xffff   (device type: BPF_DEVCG_DEV_CHAR or _BLOCK)
//   r3 = ctx->access_type >> 16      (access asked: mknod | read | write)
//   r4 = ctx->major, r5 = ctx->minor
//   per exception: if type, access (asked within allowed), major, minor match: return !default
//   return default
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "errors.h"

namespace tsrun::napi {
namespace {

struct Rule {
  int type;    // BPF_DEVCG_DEV_CHAR or BPF_DEVCG_DEV_BLOCK
  int64_t major;  // -1: any
  int64_t minor;  // -1: any
  int access;  // BPF_DEVCG_ACC_* bits
};

long bpf(int cmd, union bpf_attr* attr) {
  return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof(i));
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

constexpr int kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

std::vector<bpf_insn> build(bool default_allow, const std::vector<Rule>& rules) {
  std::vector<bpf_insn> p;
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
  for (const Rule& r : rules) {
    bool check_access = r.access != kAllAccess;
    int len = 1 + (check_access ? 3 : 0) + (r.major >= 0 ? 1 : 0) + (r.minor >= 0 ? 1 : 0) + 2;
    int at = 0;
    // Each test jumps past the rest of this block when the device does not match.
    auto skip = [&]() { return static_cast<int16_t>(len - at - 1); };
    p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, skip(), r.type));
    at++;
    if (check_access) {
      // r1 = r3 & allowed; if (r1 != r3) the request asks for more than the rule covers
      p.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
      at++;
      p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, r.access));
      at++;
      p.push_back(insn(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, skip(), 0));
      at++;
    }
    if (r.major >= 0) {
      p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, skip(), static_cast<int32_t>(r.major)));
      at++;
    }
    if (r.minor >= 0) {
      p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, skip(), static_cast<int32_t>(r.minor)));
      at++;
    }
    p.push_back(insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, default_allow ? 0 : 1));
    p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  }
  p.push_back(insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, default_allow ? 1 : 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Loads the program; on a verifier refusal, loads again with a log to say why.
int load(Napi::Env env, const std::vector<bpf_insn>& prog) {
  static const char license[] = "Apache";
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(prog.data());
  attr.insn_cnt = static_cast<uint32_t>(prog.size());
  attr.license = reinterpret_cast<uint64_t>(license);
  int fd = static_cast<int>(bpf(BPF_PROG_LOAD, &attr));
  if (fd >= 0) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
  }
  int err = errno;
  std::string log(16384, '\0');
  attr.log_buf = reinterpret_cast<uint64_t>(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  attr.log_level = 1;
  fd = static_cast<int>(bpf(BPF_PROG_LOAD, &attr));
  if (fd >= 0) ::close(fd);
  log.resize(std::strlen(log.c_str()));
  throw errno_error(env, "bpf(BPF_PROG_LOAD)", err, log);
}

std::vector<uint32_t> query(Napi::Env env, int cgroup_fd, uint32_t* flags) {
  std::vector<uint32_t> ids(64);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (bpf(BPF_PROG_QUERY, &attr) < 0) throw errno_error(env, "bpf(BPF_PROG_QUERY)", errno);
  ids.resize(attr.query.prog_cnt);
  if (flags) *flags = attr.query.attach_flags;
  return ids;
}

int open_cgroup(Napi::Env env, const std::string& dir) {
  int fd = ::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw errno_error(env, "open", errno, dir);
  return fd;
}

std::vector<Rule> rules_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsArray()) throw Napi::TypeError::New(info.Env(), "rules must be an array");
  auto arr = info[i].As<Napi::Array>();
  std::vector<Rule> out;
  for (uint32_t k = 0; k < arr.Length(); k++) {
    auto o = arr.Get(k).As<Napi::Object>();
    std::string type = o.Get("type").As<Napi::String>().Utf8Value();
    std::string access = o.Get("access").As<Napi::String>().Utf8Value();
    Rule r{};
    if (type == "c") {
      r.type = BPF_DEVCG_DEV_CHAR;
    } else if (type == "b") {
      r.type = BPF_DEVCG_DEV_BLOCK;
    } else {
      throw Napi::TypeError::New(info.Env(), "rule type must be c or b");
    }
    r.major = o.Get("major").As<Napi::Number>().Int64Value();
    r.minor = o.Get("minor").As<Napi::Number>().Int64Value();
    for (char c : access) {
      if (c == 'r') r.access |= BPF_DEVCG_ACC_READ;
      else if (c == 'w') r.access |= BPF_DEVCG_ACC_WRITE;
      else if (c == 'm') r.access |= BPF_DEVCG_ACC_MKNOD;
      else throw Napi::TypeError::New(info.Env(), "rule access must be made of r, w and m");
    }
    out.push_back(r);
  }
  return out;
}

// attachDeviceFilter(cgroupDir, defaultAllow, rules): number of instructions loaded
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = string_arg(info, 0, "cgroupDir");
  if (info.Length() < 2 || !info[1].IsBoolean()) throw Napi::TypeError::New(env, "defaultAllow must be a boolean");
  bool default_allow = info[1].As<Napi::Boolean>().Value();
  std::vector<Rule> rules = rules_arg(info, 2);
  std::vector<bpf_insn> prog = build(default_allow, rules);

  Fd cgroup(open_cgroup(env, dir));
  Fd prog_fd(load(env, prog));
  uint32_t old_flags = 0;
  std::vector<uint32_t> old = query(env, cgroup.get(), &old_flags);

  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<uint32_t>(cgroup.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  // A single program attached without ALLOW_MULTI can only be replaced, not joined.
  bool replace = !old.empty() && !(old_flags & BPF_F_ALLOW_MULTI);
  attr.attach_flags = replace ? 0 : BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &attr) < 0) throw errno_error(env, "bpf(BPF_PROG_ATTACH)", errno, dir);
  if (!replace) {
    for (uint32_t id : old) {
      union bpf_attr get;
      std::memset(&get, 0, sizeof(get));
      get.prog_id = id;
      int fd = static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, &get));
      if (fd < 0) {
        if (errno == ENOENT) continue;  // gone meanwhile
        throw errno_error(env, "bpf(BPF_PROG_GET_FD_BY_ID)", errno, dir);
      }
      Fd old_fd(fd);
      union bpf_attr det;
      std::memset(&det, 0, sizeof(det));
      det.target_fd = static_cast<uint32_t>(cgroup.get());
      det.attach_bpf_fd = static_cast<uint32_t>(old_fd.get());
      det.attach_type = BPF_CGROUP_DEVICE;
      if (bpf(BPF_PROG_DETACH, &det) < 0 && errno != ENOENT) throw errno_error(env, "bpf(BPF_PROG_DETACH)", errno, dir);
    }
  }
  return Napi::Number::New(env, static_cast<double>(prog.size()));
}

// deviceFilters(cgroupDir): ids of the device programs attached to the cgroup itself
Napi::Value DeviceFilters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd cgroup(open_cgroup(env, string_arg(info, 0, "cgroupDir")));
  std::vector<uint32_t> ids = query(env, cgroup.get(), nullptr);
  auto arr = Napi::Array::New(env, ids.size());
  for (uint32_t k = 0; k < ids.size(); k++) arr.Set(k, Napi::Number::New(env, ids[k]));
  return arr;
}

}  // namespace

void register_bpf(Napi::Env env, Napi::Object exports) {
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter, "attachDeviceFilter"));
  exports.Set("deviceFilters", Napi::Function::New(env, DeviceFilters, "deviceFilters"));
}

}  // namespace tsrun::napi

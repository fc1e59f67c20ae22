#include "channel.h"

#include <errno.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace tsrun::init {
namespace {

int g_sync_fd = -1;
bool g_text = false;
bool g_debug = false;

const char* const kStepNames[] = {
#define STEP(id, name) name,
#include "../plan/steps.def"
#undef STEP
};

bool write_all(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* buf, size_t len) {
  char* p = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t n = ::read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

void send(sync::RecordKind kind, Step step, int err, int index, int64_t value, const char* detail) {
  sync::Record rec;
  std::memset(&rec, 0, sizeof(rec));
  rec.kind = static_cast<uint32_t>(kind);
  rec.step = static_cast<uint32_t>(step);
  rec.err = err;
  rec.index = index;
  rec.value = value;
  if (detail) std::snprintf(rec.detail, sizeof(rec.detail), "%s", detail);
  if (g_text) {
    std::fprintf(stderr, "tsrun-init[%d]: kind %u step \"%s\"[%d] value %lld: %s: %s\n",
                 static_cast<int>(::getpid()), rec.kind, kStepNames[rec.step], index,
                 static_cast<long long>(value), err ? std::strerror(err) : "ok", rec.detail);
    return;
  }
  // Nothing sensible is left to do if the parent is gone; the exit says the rest.
  (void)write_all(g_sync_fd, &rec, sizeof(rec));
}

}  // namespace

void set_sync_fd(int fd) { g_sync_fd = fd; }
void set_debug(bool on) { g_debug = on; }

void debug(Step step, const char* fmt, ...) {
  // after READY the channel is closed: nothing to say, and nobody to say it to
  if (!g_debug || (g_sync_fd < 0 && !g_text)) return;
  char detail[sizeof(sync::Record::detail)];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(detail, sizeof(detail), fmt, ap);
  va_end(ap);
  send(sync::RecordKind::Debug, step, 0, -1, ::getpid(), detail);
}
void set_text_mode() { g_text = true; }
int sync_fd() { return g_sync_fd; }

void fail(Step step, int err, int index, const char* fmt, ...) {
  char detail[sizeof(sync::Record::detail)];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(detail, sizeof(detail), fmt, ap);
  va_end(ap);
  send(sync::RecordKind::Error, step, err, index, 0, detail);
  ::_exit(1);
}

void send_child_pid(int64_t pid) {
  send(sync::RecordKind::ChildPid, Step::CLONE, 0, -1, pid, nullptr);
}

void send_ready() { send(sync::RecordKind::Ready, Step::SYNC, 0, -1, 0, nullptr); }

namespace {

// Waits for one message of the expected kind from the parent.
std::vector<uint8_t> read_message(sync::MessageKind want, Step step) {
  sync::MessageHeader h;
  if (!read_all(g_sync_fd, &h, sizeof(h))) fail(step, errno ? errno : EPIPE, -1, "reading a message header");
  if (h.kind != static_cast<uint32_t>(want)) fail(step, EPROTO, -1, "message kind %u, expected %u", h.kind, static_cast<uint32_t>(want));
  if (h.length > (64u << 20)) fail(step, E2BIG, -1, "message of %u bytes", h.length);
  std::vector<uint8_t> buf(h.length);
  if (!read_all(g_sync_fd, buf.data(), buf.size())) fail(step, errno ? errno : EPIPE, -1, "reading %u bytes", h.length);
  return buf;
}

}  // namespace

std::vector<uint8_t> read_plan() { return read_message(sync::MessageKind::Plan, Step::PLAN); }

void request_userns_maps() {
  send(sync::RecordKind::Userns, Step::USERNS, 0, -1, ::getpid(), nullptr);
  read_message(sync::MessageKind::MapsDone, Step::USERNS);
}

void send_seccomp_fd(int fd) {
  send(sync::RecordKind::SeccompFd, Step::SECCOMP_NOTIFY, 0, -1, fd, nullptr);
  // By hand there is no parent to take the fd, and no agent behind it.
  if (g_text) return;
  read_message(sync::MessageKind::SeccompDone, Step::SECCOMP_NOTIFY);
}

std::string request_hooks() {
  send(sync::RecordKind::Hooks, Step::HOOKS, 0, -1, 0, nullptr);
  auto body = read_message(sync::MessageKind::HooksDone, Step::HOOKS);
  return std::string(body.begin(), body.end());
}

}  // namespace tsrun::init

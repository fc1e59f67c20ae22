#!/usr/bin/env python3
# A seccomp agent for tests: listens where linux.seccomp.listenerPath points, takes the
# container process state (JSON) and the listener fd (SCM_RIGHTS) from each connection,
# and answers the container's trapped syscalls:
#   mkdir, mkdirat   success (0) without doing anything
#   chmod, fchmodat  ENOMEDIUM, an errno nothing else would give
#   anything else    carried out by the kernel as usual (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
#
#   seccomp-agent.py <socket path> <report file> [connections]
# Prints "ready" on stderr once listening. The report file gets one line per event:
#   state <json> fds <n>
#   notify <syscall number>
# It exits when no process is left that any of its listeners could notify (or on SIGTERM).
import fcntl, json, os, select, socket, struct, sys, threading

path, report = sys.argv[1], sys.argv[2]
connections = int(sys.argv[3]) if len(sys.argv) > 3 else 1

# x86_64 numbers and linux/seccomp.h ioctls
SYS_MKDIR, SYS_MKDIRAT, SYS_CHMOD, SYS_FCHMODAT = 83, 258, 90, 268
ENOMEDIUM = 123
NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes
FLAG_CONTINUE = 1

lock = threading.Lock()


def log(line):
    with lock:
        with open(report, "a") as f:
            f.write(line + "\n")


def serve(fd):
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        events = dict(poller.poll())
        if not events.get(fd, 0) & select.POLLIN:
            return  # POLLHUP alone: no process is left that could be notified
        buf = bytearray(80)
        try:
            fcntl.ioctl(fd, NOTIF_RECV, buf, True)
        except OSError:
            continue  # the caller died before we took its notification
        notif_id, _pid, _flags, nr = struct.unpack_from("=QIIi", buf, 0)
        log("notify %d" % nr)
        if nr in (SYS_MKDIR, SYS_MKDIRAT):
            resp = struct.pack("=QqiI", notif_id, 0, 0, 0)
        elif nr in (SYS_CHMOD, SYS_FCHMODAT):
            resp = struct.pack("=QqiI", notif_id, 0, -ENOMEDIUM, 0)
        else:
            resp = struct.pack("=QqiI", notif_id, 0, 0, FLAG_CONTINUE)
        try:
            fcntl.ioctl(fd, NOTIF_SEND, bytearray(resp), True)
        except OSError:
            pass  # the caller died meanwhile


srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
sys.stderr.write("ready\n")
sys.stderr.flush()
threads = []
for _ in range(connections):
    conn, _ = srv.accept()
    data = b""
    fds = []
    state = None
    # Read until the JSON is whole: runc 1.1 leaves its end of the connection open.
    while state is None:
        msg, got, _flags, _addr = socket.recv_fds(conn, 65536, 4)
        fds += got
        if not msg:
            break
        data += msg
        try:
            state = json.loads(data)
        except ValueError:
            pass
    conn.close()
    log("state %s fds %d" % (json.dumps(state, sort_keys=True), len(fds)))
    for fd in fds:
        t = threading.Thread(target=serve, args=(fd,), daemon=True)
        t.start()
        threads.append(t)
for t in threads:
    t.join()

#!/usr/bin/env python3
# Plays the caller's side of --console-socket: listens on a unix socket, receives the pty
# master over SCM_RIGHTS (as containerd's shim or conmon do) and copies what the
# container writes to it onto stdout until the container side closes.
#   console-receiver.py <socket path>
# Prints "ready" on stderr once listening.
import os, socket, sys

path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
sys.stderr.write("ready\n")
sys.stderr.flush()
conn, _ = srv.accept()
msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
sys.stderr.write("name %s fds %d\n" % (msg.decode(), len(fds)))
master = fds[0]
while True:
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.flush()

// The warm CLI server: one Node process per user (and build, mount and user namespace) that
// runs tsrun command lines for the native `tsrun` client (cpp/cli), so that a call costs no
// Node start. The client starts it when none answers (node runs
// dist/bundle/tsrun-server.cjs with the socket's path), it listens on that path, says so on
// fd 3, serves calls side by side, and leaves after an idle while (TSRUN_SERVER_IDLE_MS,
// 10 minutes by default).
//
// It serves a caller only as that caller's own `node bin/tsrun.cjs` would have run: the same
// user, namespaces, root directory, capabilities, no_new_privs and seccomp mode; anything
// else, and every verb it does not serve, goes back COLD: the client runs it in a Node of
// its own. It never serves a call of another build of tsrun (STALE: the client starts a new
// server at the same path, and this one leaves once its calls are done).
import { closeSync, openSync, readFileSync, readlinkSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { logger } from '../log.js';
import { acceptPending, cancelWatch, cliProtocol, peerCredentials, recvMessage, seqpacketListen, sendMessage, whenReadable } from '../native/index.js';
import { main } from '../cli/main.js';
import { Call } from './call.js';
import { decodeCall, Reader, Writer } from './wire.js';

/** Verbs the server runs; the rest (spec, update, checkpoint, restore, events) run cold. */
const SERVED = new Set(['create', 'run', 'start', 'state', 'kill', 'delete', 'list', 'ps', 'exec', 'pause', 'resume', 'features']);
const VALUE_FLAGS = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);

/** The verb of a tsrun command line (after the global flags), as commander will find it. */
export function verbOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') return args[i + 1];
    if (!a.startsWith('-')) return a;
    if (!a.includes('=') && VALUE_FLAGS.has(a)) i++;
  }
  return undefined;
}

/** Which build of tsrun this is: the server bundle's size and modification time. */
export function buildKey(file: string): string {
  const st = statSync(file, { bigint: true });
  return `${st.size}-${st.mtimeNs}`;
}

const NAMESPACES = ['mnt', 'user', 'pid', 'net', 'ipc', 'uts', 'cgroup', 'time'];
const STATUS_FIELDS = /^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):\s*(\S+)$/gm;

/** What a process is, as far as running tsrun for it is concerned. */
function identity(pid: number | 'self'): string {
  const link = (p: string): string => {
    try {
      return readlinkSync(`/proc/${pid}/${p}`);
    } catch {
      return '';
    }
  };
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return [...NAMESPACES.map((n) => link(`ns/${n}`)), link('root'), ...[...status.matchAll(STATUS_FIELDS)].map((m) => `${m[1]}=${m[2]}`)].join(' ');
}

/**
 * Root's server leaves the cgroups of the caller that started it (a conmon's, a shim's,
 * whose owner would find it busy when it removes them) for the root cgroup of every
 * hierarchy mounted here. An unprivileged server cannot, and stays.
 */
function leaveCallersCgroups(): void {
  if (process.geteuid?.() !== 0) return;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const fstype = fields[fields.indexOf('-') + 1];
    if ((fstype !== 'cgroup' && fstype !== 'cgroup2') || fields[3] !== '/') continue;
    try {
      writeFileSync(path.join(fields[4] ?? '', 'cgroup.procs'), String(process.pid));
    } catch {
      // best effort: a hierarchy we may not write to keeps us where we are
    }
  }
}

export async function serve(socketPath: string, script: string, readyFd?: number): Promise<void> {
  leaveCallersCgroups();
  const p = cliProtocol();
  const build = buildKey(script);
  const own = identity('self');
  const devNull = openSync('/dev/null', 'r+');
  const idleMs = Number(process.env.TSRUN_SERVER_IDLE_MS ?? 600_000);
  delete process.env.TSRUN_SERVER_IDLE_MS;

  // Bound under a name of its own, then renamed over the path: a client never connects to a
  // half-made socket, and one that finds the old server's gone finds this one.
  const tmp = `${socketPath}.${process.pid}`;
  const listenFd = seqpacketListen(tmp);
  renameSync(tmp, socketPath);
  const inode = statSync(socketPath).ino;
  if (readyFd !== undefined) {
    writeSync(readyFd, 'ready\n');
    closeSync(readyFd);
  }

  let active = 0;
  let closing = false;
  let idle: NodeJS.Timeout | undefined;
  const stillOurs = (): boolean => {
    try {
      return statSync(socketPath).ino === inode;
    } catch {
      return false;
    }
  };
  const leave = (): void => {
    closing = true;
    if (stillOurs()) unlinkSync(socketPath);
    cancelWatch(listenFd);
  };
  const armIdle = (): void => {
    clearTimeout(idle);
    if (active === 0) idle = setTimeout(leave, idleMs);
  };

  const refuse = (conn: number, type: number): void => {
    sendMessage(conn, new Writer().u32(type).done());
    closeSync(conn);
  };

  const handle = async (conn: number): Promise<void> => {
    // The client sends its call as soon as it is connected.
    await whenReadable(conn);
    const m = recvMessage(conn);
    if (!m || m.data.length === 0) {
      for (const fd of m?.fds ?? []) closeSync(fd);
      closeSync(conn);
      return;
    }
    const r = new Reader(m.data);
    const rec = r.u32() === p.call ? decodeCall(r) : undefined;
    if (!rec || rec.version !== p.version || rec.build !== build) {
      for (const fd of m.fds) closeSync(fd);
      refuse(conn, p.stale);
      // A newer build took over the path (or will): finish what runs and go.
      if (!closing) leave();
      return;
    }
    const peer = peerCredentials(conn);
    const verb = verbOf(rec.argv.slice(1));
    if (peer.uid !== process.geteuid?.() || identity(peer.pid) !== own || (verb !== undefined && !SERVED.has(verb))) {
      for (const fd of m.fds) closeSync(fd);
      refuse(conn, p.cold);
      return;
    }
    try {
      await new Call(conn, rec, m.fds, devNull).run(main);
    } finally {
      closeSync(conn);
    }
  };

  armIdle();
  while (!closing) {
    await whenReadable(listenFd);
    for (;;) {
      const conn = closing ? undefined : acceptPending(listenFd);
      if (conn === undefined) break;
      active++;
      clearTimeout(idle);
      handle(conn)
        .catch((err: unknown) => logger.debug(`cli server: ${String(err)}`))
        .finally(() => {
          active--;
          armIdle();
        });
    }
  }
  closeSync(listenFd);
}

/** The entry of dist/bundle/tsrun-server.cjs: `node tsrun-server.cjs <socket>`, ready on fd 3. */
export function serveFromArgv(script: string): void {
  const socketPath = process.argv[2];
  if (!socketPath || !path.isAbsolute(socketPath)) {
    process.stderr.write('usage: node tsrun-server.cjs <absolute socket path>\n');
    process.exitCode = 2;
    return;
  }
  process.title = 'tsrun-server';
  let readyFd: number | undefined = 3;
  try {
    statSync(`/proc/self/fd/3`);
  } catch {
    readyFd = undefined;
  }
  serve(socketPath, script, readyFd).catch((err: unknown) => {
    process.stderr.write(`tsrun-server: ${String(err)}\n`);
    process.exitCode = 1;
  });
}

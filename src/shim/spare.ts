// The warm spare (cpp/shim/spare.h has the protocol): this process was started with every
// module of the brain loaded but no socket to serve, and waits on its spare socket (fd 3)
// for whoever must start a brain to hand it the brain's socket. Adopted, it becomes exactly
// the brain that would have been launched: the brain socket, a log on stderr, containerd's
// environment and oom score, and a process title with a brain's flags (ps, and tests, tell
// brains apart by them). Nobody adopting it within its idle time, it removes its socket
// and exits.
import { statSync, unlinkSync, writeFileSync } from 'node:fs';
import { InvalidArgument } from '../errors.js';
import { dup2, takeAdoption } from '../native/index.js';
import { brainTitle, type BrainArgs } from './args.js';
import { accept, readHandover } from './handover.js';
import { closeQuietly } from './io/fds.js';
const SPARE_FD = 3;
const DEFAULT_IDLE_MS = 60_000;
/** How often a waiting spare checks that its socket file is still its own. */
const ORPHAN_CHECK_MS = 2_000;

export interface SpareArgs {
  /** the spare socket's path (fd 3 listens there) */
  socket: string;
  /** identity() of the socket file as the launcher bound it */
  file?: string;
}

/** `-spare PATH [-spare-file ID] [-title-room PAD]`; undefined when argv is a server's.
 *  ID names the socket file the launcher bound (see identity()), so a file that replaced it
 *  before we looked is not taken for ours. */
export function parseSpareArgs(argv: readonly string[]): SpareArgs | undefined {
  if (argv[0] !== '-spare') return undefined;
  const socket = argv[1];
  if (!socket) throw InvalidArgument.at('-spare', 'needs a value');
  const out: SpareArgs = { socket };
  for (let i = 2; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (flag !== '-spare-file' && flag !== '-title-room') throw InvalidArgument.at(flag, 'unexpected argument');
    if (value === undefined) throw InvalidArgument.at(flag, 'needs a value');
    // -title-room only reserves argv space for the title set on adoption.
    if (flag === '-spare-file') out.file = value;
  }
  return out;
}

export function spareIdleMs(env: NodeJS.ProcessEnv): number {
  const text = env.TSRUN_SHIM_SPARE_IDLE_MS;
  if (text === undefined || text === '') return DEFAULT_IDLE_MS;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0) throw InvalidArgument.at('TSRUN_SHIM_SPARE_IDLE_MS', `must be a positive integer, not "${text}"`);
  return ms;
}

export interface Adopted {
  args: BrainArgs;
  /** the brain's listening socket */
  listenFd: number;
}

/** Which file is at the path, as dev:ino:ctime-ns (the launcher writes the same): the inode
 *  number alone is not enough, as a file system may give a new file the number of one just
 *  removed; the change time tells them apart. */
export function identity(path: string): string {
  const st = statSync(path, { bigint: true });
  return `${st.dev}:${st.ino}:${st.ctimeNs}`;
}

function ownsPath(spare: SpareArgs, inode: string): boolean {
  try {
    return identity(spare.socket) === inode;
  } catch {
    return false;
  }
}

/** The spare socket goes, so that the launcher that adopted us can start the next spare. */
function leave(spare: SpareArgs, inode: string): void {
  try {
    // Only our own socket file: never a successor's at the same path.
    if (ownsPath(spare, inode)) unlinkSync(spare.socket);
  } catch {
    // gone already
  }
  closeQuietly(SPARE_FD);
}

/**
 * Waits for someone to hand this spare a brain socket, blocking (a spare has nothing else
 * to do). Undefined when nobody did within the idle time, or the sender gave up on us.
 */
export function waitForAdoption(spare: SpareArgs, idleMs: number): Adopted | undefined {
  const inode = spare.file ?? identity(spare.socket);
  const deadline = Date.now() + idleMs;
  for (;;) {
    const got = takeAdoption(SPARE_FD, Math.min(ORPHAN_CHECK_MS, Math.max(0, deadline - Date.now())));
    if (!got) {
      // A spare nobody can reach any more (its socket file replaced: a launcher took it for
      // a dead one's) would only hold memory: it goes now, not at its idle time.
      if (Date.now() < deadline && ownsPath(spare, inode)) continue;
      leave(spare, inode);
      return undefined;
    }
    const handover = readHandover(got);
    if (!handover) continue; // not one of ours: keep waiting
    leave(spare, inode);
    // The sender gave up waiting (and started a brain itself): the socket is not ours.
    if (!accept(handover)) return undefined;
    const { args, logFd, env, oom } = handover;
    if (logFd !== undefined) {
      dup2(logFd, 2);
      closeQuietly(logFd);
    }
    for (const key of Object.keys(process.env)) delete process.env[key];
    for (const entry of env) {
      const eq = entry.indexOf('=');
      if (eq > 0) process.env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    if (oom) {
      try {
        writeFileSync('/proc/self/oom_score_adj', oom);
      } catch {
        // lowering it needs a capability we may lack; containerd's value + 1 was set at launch
      }
    }
    process.title = brainTitle(args);
    return { args, listenFd: handover.listenFd };
  }
}

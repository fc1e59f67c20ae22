// Starting tsrun-init and talking to it over the sync socket (protocol: cpp/plan/sync.h;
// records and messages: cpp/plan/sync.def, read through wire.ts).
import { closeSync, readSync, writeSync } from 'node:fs';
import { HookFailed, Internal, SystemError, withContext, type TsrunError } from '../errors.js';
import { call, errnoText, initPath } from './addon.js';
import { encodePlan, messageHeader, readSyncRecord, STEP_NAMES, SYNC_RECORD_SIZE, type MessageKind, type Plan, type SyncRecord } from './wire.js';

const STEPS_WITH_OPS = new Set(['mount', 'device', 'symlink']);

export type InitRecord =
  | { kind: 'child-pid'; pid: number }
  | { kind: 'ready' }
  | { kind: 'error'; error: TsrunError }
  /** the bootstrap made a user namespace: write its maps, then mapsWritten() */
  | { kind: 'userns'; pid: number }
  /** run prestart and createRuntime hooks, then hooksDone(state) */
  | { kind: 'hooks' }
  /** the process's seccomp listener, as numbered in the process; answer with seccompDone() */
  | { kind: 'seccomp-fd'; fd: number }
  /** with the plan's debug: what tsrun-init (pid in its own pid namespace) does next */
  | { kind: 'debug'; pid: number; step: string; detail: string };

let sealed: number | undefined;

/** The sealed memfd copy of tsrun-init, made once per process. */
export function sealedInit(): number {
  sealed ??= call((a) => a.sealExecutable(initPath(), 'tsrun-init'));
  return sealed;
}

/** What starts tsrun-init: its executable (an fd), argv and env, and fds[i] as its fd i. */
export interface SpawnRequest {
  exeFd: number;
  argv: string[];
  env: string[];
  fds: number[];
  /** a cgroup v2 directory to start the process in, for a spawner that can (inCgroup says) */
  cgroup?: string;
}

export interface Spawned {
  pid: number;
  /** the caller's to close */
  pidfd: number;
  /** it started in the request's cgroup: nobody moves it there by pid */
  inCgroup?: boolean;
}

/** Starts tsrun-init as our child, in-process (cpp/sys/spawn.h): vfork-style, no fork of Node. */
export function spawnHere(req: SpawnRequest): Spawned {
  return call((a) => a.spawn(req));
}

export interface StartInitOptions {
  plan: Plan;
  /** fds that become the container's 0, 1 and 2; -1 becomes /dev/null */
  stdio: [number, number, number];
  /** fds that become 3, 4, ... in the container (--preserve-fds) */
  preserveFds?: number[];
  /** O_PATH fd of the exec fifo */
  fifoFd?: number;
  /** connected --console-socket */
  consoleSocketFd?: number;
  /** exec: pidfd of the container's init, whose namespaces the process joins */
  joinFd?: number;
  /** the cgroup v2 directory the bootstrap may start in (SpawnRequest.cgroup) */
  cgroup?: string;
}

/**
 * Fixed-size records arriving on a (blocking) stream socket, read when asked for: the
 * addon says when the socket is readable and one read then takes what is there. Nothing
 * waits on the socket between calls, so it can be closed whenever no next() is pending.
 */
class RecordReader {
  private pending = Buffer.alloc(0);
  private ended = false;

  constructor(private readonly fd: number) {}

  async next(): Promise<Buffer | null> {
    const size = SYNC_RECORD_SIZE;
    while (this.pending.length < size) {
      if (this.ended) return null;
      await call((a) => a.whenReadable(this.fd));
      const chunk = Buffer.allocUnsafe(4096);
      let n: number;
      try {
        n = readSync(this.fd, chunk, 0, chunk.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EINTR') continue;
        n = 0; // a reset socket ends the exchange as its close does
      }
      if (n === 0) this.ended = true;
      else this.pending = Buffer.concat([this.pending, chunk.subarray(0, n)]);
    }
    const rec = Buffer.from(this.pending.subarray(0, size));
    this.pending = this.pending.subarray(size);
    return rec;
  }
}

export class InitProcess {
  private readonly reader: RecordReader;
  private closed = false;

  private constructor(
    readonly plan: Plan,
    /** the bootstrap process: in our namespaces until it has read the plan */
    readonly bootstrapPid: number,
    readonly bootstrapPidfd: number,
    private readonly fd: number,
    /** the bootstrap started in StartInitOptions.cgroup */
    readonly inCgroup: boolean,
  ) {
    this.reader = new RecordReader(fd);
  }

  /** Spawns the bootstrap through spawn; it waits for the plan, so cgroups can be joined first. */
  static async start(opts: StartInitOptions, spawn: (req: SpawnRequest) => Spawned | Promise<Spawned>): Promise<InitProcess> {
    const preserve = opts.preserveFds ?? [];
    const [parentEnd, childEnd] = call((a) => a.socketPair());
    const fds = [...opts.stdio, ...preserve, childEnd];
    const syncFd = fds.length - 1;
    const plan = { ...opts.plan, preserveFds: preserve.length, fifoFd: -1, consoleSocketFd: -1, joinFd: -1 };
    if (opts.fifoFd !== undefined) {
      plan.fifoFd = fds.length;
      fds.push(opts.fifoFd);
    }
    if (opts.consoleSocketFd !== undefined) {
      plan.consoleSocketFd = fds.length;
      fds.push(opts.consoleSocketFd);
    }
    if (opts.joinFd !== undefined) {
      plan.joinFd = fds.length;
      fds.push(opts.joinFd);
    }
    let child: Spawned;
    try {
      const req: SpawnRequest = { exeFd: sealedInit(), argv: ['tsrun-init', 'init', String(fds.length), String(syncFd)], env: [], fds };
      if (opts.cgroup !== undefined) req.cgroup = opts.cgroup;
      child = await spawn(req);
    } catch (err) {
      closeSync(parentEnd);
      throw err;
    } finally {
      closeSync(childEnd);
    }
    return new InitProcess(plan, child.pid, child.pidfd, parentEnd, child.inCgroup === true);
  }

  private send(kind: MessageKind, body: Buffer): void {
    const msg = Buffer.concat([messageHeader(kind, body.length), body]);
    try {
      for (let off = 0; off < msg.length; ) off += writeSync(this.fd, msg, off);
    } catch {
      // tsrun-init is gone (EPIPE): the next record read says so, with how it ended.
    }
  }

  /** Sends the plan, with fields the runtime learnt only after start (rootless cgroups). */
  sendPlan(later: Partial<Plan> = {}): void {
    this.send('plan', encodePlan({ ...this.plan, ...later }));
  }

  mapsWritten(): void {
    this.send('maps-done', Buffer.alloc(0));
  }

  /** The container state JSON for the hooks tsrun-init runs inside the container. */
  hooksDone(state: string): void {
    this.send('hooks-done', Buffer.from(state));
  }

  /** Lets the process go on once the agent has its seccomp listener. */
  seccompDone(): void {
    this.send('seccomp-done', Buffer.alloc(0));
  }

  /** The next record, or null when tsrun-init closed the channel. */
  async next(): Promise<InitRecord | null> {
    const bytes = await this.reader.next();
    if (!bytes) return null;
    let rec: SyncRecord;
    try {
      rec = readSyncRecord(bytes);
    } catch (err) {
      return { kind: 'error', error: withContext('sync', err) };
    }
    switch (rec.kind) {
      case 'child-pid':
      case 'userns':
        return { kind: rec.kind, pid: Number(rec.value) };
      case 'seccomp-fd':
        return { kind: rec.kind, fd: Number(rec.value) };
      case 'ready':
      case 'hooks':
        return { kind: rec.kind };
      case 'error':
        return { kind: 'error', error: this.errorOf(rec) };
      case 'debug':
        return { kind: 'debug', pid: Number(rec.value), step: STEP_NAMES[rec.step] ?? `step ${rec.step}`, detail: rec.detail };
    }
  }

  private errorOf({ step: stepIndex, err: errno, index, detail }: SyncRecord): TsrunError {
    const step = STEP_NAMES[stepIndex] ?? `step ${stepIndex}`;
    const op = STEPS_WITH_OPS.has(step) ? this.plan.rootfsOps[index] : undefined;
    const where = op ? `${step} ${op.describe}` : index >= 0 ? `${step}[${index}]` : step;
    // The hooks step runs createContainer hooks; its detail is the whole message, in runc's
    // words ("error running hook #0: hooks.createContainer[0] ...", cpp/init/extras.cc).
    if (step === 'hooks') return new HookFailed(detail, { field: `hooks.createContainer[${index}]` });
    const message = `${where}: ${errno ? errnoText(errno) : 'failed'}${detail ? `: ${detail}` : ''}`;
    return errno ? new SystemError(message, { errno, step, index }) : new Internal(message);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

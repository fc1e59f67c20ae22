// Starting tsrun-init and talking to it over the sync socket (protocol: cpp/plan/sync.h).
import { closeSync } from 'node:fs';
import net from 'node:net';
import { SystemError } from '../errors.js';
import { addon, call, errnoText, initPath } from './addon.js';
import { encodePlan, PLAN_VERSION, type Plan } from './plan-wire.js';

if (addon.planVersion !== PLAN_VERSION) {
  throw new Error(`the native addon speaks plan version ${addon.planVersion}, this code ${PLAN_VERSION}: rebuild`);
}

const RecordKind = { ChildPid: 1, Ready: 2, Error: 3, Userns: 4, Hooks: 5, SeccompFd: 6 } as const;
const MessageKind = { MapsDone: 1, HooksDone: 2, SeccompDone: 3 } as const;
const STEPS_WITH_OPS = new Set(['mount', 'device', 'symlink']);

export type InitRecord =
  | { kind: 'child-pid'; pid: number }
  | { kind: 'ready' }
  | { kind: 'error'; error: SystemError }
  /** the bootstrap made a user namespace: write its maps, then mapsWritten() */
  | { kind: 'userns'; pid: number }
  /** run prestart and createRuntime hooks, then hooksDone(state) */
  | { kind: 'hooks' }
  /** the process's seccomp listener, as numbered in the process; answer with seccompDone() */
  | { kind: 'seccomp-fd'; fd: number };

let sealed: number | undefined;

/** The sealed memfd copy of tsrun-init, made once per process. */
export function sealedInit(): number {
  sealed ??= call(() => addon.sealExecutable(initPath, 'tsrun-init'));
  return sealed;
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
}

/** Fixed-size records arriving on a stream socket. */
class RecordReader {
  private pending = Buffer.alloc(0);
  private ready: Buffer[] = [];
  private waiters: Array<(r: Buffer | null) => void> = [];
  private ended = false;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= addon.recordSize) {
        this.push(this.pending.subarray(0, addon.recordSize));
        this.pending = this.pending.subarray(addon.recordSize);
      }
    });
    const end = (): void => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(null);
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  private push(rec: Buffer): void {
    const w = this.waiters.shift();
    if (w) w(Buffer.from(rec));
    else this.ready.push(Buffer.from(rec));
  }

  next(): Promise<Buffer | null> {
    const rec = this.ready.shift();
    if (rec) return Promise.resolve(rec);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export class InitProcess {
  private readonly reader: RecordReader;

  private constructor(
    readonly plan: Plan,
    /** the bootstrap process: in our namespaces until it has read the plan */
    readonly bootstrapPid: number,
    readonly bootstrapPidfd: number,
    private readonly socket: net.Socket,
  ) {
    this.reader = new RecordReader(socket);
  }

  /** Spawns the bootstrap; it waits for the plan, so cgroups can be joined first. */
  static start(opts: StartInitOptions): InitProcess {
    const preserve = opts.preserveFds ?? [];
    const [parentEnd, childEnd] = call(() => addon.socketPair());
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
    let child;
    try {
      child = call(() =>
        addon.spawn({
          exeFd: sealedInit(),
          argv: ['tsrun-init', 'init', String(fds.length), String(syncFd)],
          env: [],
          fds,
        }),
      );
    } catch (err) {
      closeSync(parentEnd);
      throw err;
    } finally {
      closeSync(childEnd);
    }
    const socket = new net.Socket({ fd: parentEnd, readable: true, writable: true });
    return new InitProcess(plan, child.pid, child.pidfd, socket);
  }

  private send(kind: number, body: Buffer): void {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(kind, 0);
    header.writeUInt32LE(body.length, 4);
    this.socket.write(Buffer.concat([header, body]));
  }

  sendPlan(): void {
    this.send(addon.planMagic, encodePlan(this.plan));
  }

  mapsWritten(): void {
    this.send(MessageKind.MapsDone, Buffer.alloc(0));
  }

  /** The container state JSON for the hooks tsrun-init runs inside the container. */
  hooksDone(state: string): void {
    this.send(MessageKind.HooksDone, Buffer.from(state));
  }

  /** Lets the process go on once the agent has its seccomp listener. */
  seccompDone(): void {
    this.send(MessageKind.SeccompDone, Buffer.alloc(0));
  }

  /** The next record, or null when tsrun-init closed the channel. */
  async next(): Promise<InitRecord | null> {
    const rec = await this.reader.next();
    if (!rec) return null;
    const kind = rec.readUInt32LE(0);
    if (kind === RecordKind.ChildPid) return { kind: 'child-pid', pid: Number(rec.readBigInt64LE(16)) };
    if (kind === RecordKind.Ready) return { kind: 'ready' };
    if (kind === RecordKind.Error) return { kind: 'error', error: this.errorOf(rec) };
    if (kind === RecordKind.Userns) return { kind: 'userns', pid: Number(rec.readBigInt64LE(16)) };
    if (kind === RecordKind.Hooks) return { kind: 'hooks' };
    if (kind === RecordKind.SeccompFd) return { kind: 'seccomp-fd', fd: Number(rec.readBigInt64LE(16)) };
    return { kind: 'error', error: new SystemError(`sync: unknown record kind ${kind}`, { errno: 0 }) };
  }

  private errorOf(rec: Buffer): SystemError {
    const step = addon.stepNames[rec.readUInt32LE(4)] ?? `step ${rec.readUInt32LE(4)}`;
    const errno = rec.readInt32LE(8);
    const index = rec.readInt32LE(12);
    const raw = rec.subarray(24);
    const detail = raw.subarray(0, raw.indexOf(0) < 0 ? raw.length : raw.indexOf(0)).toString('utf8');
    const op = STEPS_WITH_OPS.has(step) ? this.plan.rootfsOps[index] : undefined;
    const where = op ? `${step} ${op.describe}` : index >= 0 ? `${step}[${index}]` : step;
    const message = `${where}: ${errno ? errnoText(errno) : 'failed'}${detail ? `: ${detail}` : ''}`;
    return new SystemError(message, { errno, step, index });
  }

  close(): void {
    this.socket.destroy();
  }
}

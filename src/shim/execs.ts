// A container's execs by containerd's exec id, each a ShimProcess (its transition table, the
// one place its state is kept; its stdio, exit and journal line): registered by Exec, started
// through the library with the group's keeper as their spawner, signalled, deleted, and taken
// over from a journal.
import { constants as os } from 'node:os';
import type { Runtime } from '../api/index.js';
import type { ExecProcessRequest } from '../gen/containerd/task/v2/shim_pb.js';
import { AlreadyExists, FailedPrecondition, messageOf, NotFound } from '../errors.js';
import { logger } from '../log.js';
import type { ProcessSpec } from '../oci/spec.js';
import type { ContainerDeps, ExitInfo } from './container.js';
import { ProcessIO } from './io/process-io.js';
import { execKey, processState, type ExecLine } from './journal.js';
import type { KeeperExit } from './keeper/link.js';
import { keeperSpawner } from './keeper/spawner.js';
import type { ShimOptions } from './options.js';
import { stdioOf, type Stdio } from './process.js';
import { handleRef, pidfdRef, ShimProcess } from './shim-process.js';
import { execSpec } from './specs.js';

const { SIGKILL } = os.signals;

export class Execs {
  readonly #byId = new Map<string, ShimProcess>();

  constructor(
    private readonly deps: ContainerDeps,
    private readonly containerId: string,
    private readonly rt: Runtime,
    /** the container's init, whose state says whether an exec may begin */
    private readonly init: ShimProcess,
    private readonly options: ShimOptions,
  ) {}

  /** NotFound for an unknown exec. */
  get(execId: string): ShimProcess {
    const e = this.#byId.get(execId);
    if (!e) throw new NotFound(`process ${execId} does not exist`, { containerId: this.containerId });
    return e;
  }

  values(): IterableIterator<ShimProcess> {
    return this.#byId.values();
  }

  /** The running execs' exec ids by pid. */
  running(): Map<number, string> {
    const byPid = new Map<number, string>();
    for (const [id, e] of this.#byId) if (e.pid > 0 && e.proc.status === 'running') byPid.set(e.pid, id);
    return byPid;
  }

  #make(execId: string, stdio: Stdio, io: ProcessIO, spec: ProcessSpec): ShimProcess {
    const id = this.containerId;
    return new ShimProcess(this.deps, 'exec', id, execId, stdio, io, execKey(id, execId), () => ({ containerId: id, execId, spec }), spec);
  }

  /** Exec: registers a process to start later (containerd validated the exec id). */
  async add(req: ExecProcessRequest): Promise<void> {
    if (this.#byId.has(req.execId)) throw new AlreadyExists(`id ${req.execId}`, { containerId: this.containerId });
    if (this.init.reaped || this.init.proc.status === 'stopped' || this.init.proc.status === 'deleted') {
      throw new FailedPrecondition(`container ${this.containerId} init process is not running`, { containerId: this.containerId });
    }
    const spec = execSpec(req.spec);
    spec.terminal = req.terminal;
    const io = await ProcessIO.open(this.deps.link, {
      ...stdioOf(req),
      containerId: this.containerId,
      namespace: this.deps.namespace,
      uid: this.options.ioUid,
      gid: this.options.ioGid,
    });
    if (this.#byId.has(req.execId)) {
      await io.close();
      throw new AlreadyExists(`id ${req.execId}`, { containerId: this.containerId });
    }
    const p = this.#make(req.execId, stdioOf(req), io, spec);
    this.#byId.set(req.execId, p);
    p.proc.created(0);
  }

  async start(execId: string): Promise<number> {
    const e = this.get(execId);
    return e.proc.start(async () => {
      // After the init's exit no exec may start: its exit would come after the init's.
      if (this.init.reaped) throw new FailedPrecondition(`container ${this.containerId} init process is not running`, { containerId: this.containerId });
      const initStatus = this.init.proc.status;
      if (initStatus === 'paused' || initStatus === 'pausing') {
        throw new FailedPrecondition(`cannot exec in a ${initStatus} container`, { containerId: this.containerId });
      }
      e.pending = 'start';
      try {
        const handle = await this.rt.exec(this.containerId, e.spec as NonNullable<typeof e.spec>, {
          stdio: e.io.slots,
          consoleSocketFd: e.io.consoleSocketFd,
          spawner: keeperSpawner(this.deps.link, e.io.id, (pid) => (e.proc.pid = pid)),
        });
        e.io.started();
        e.watch(handle.pid, handleRef(handle), (x) => this.#exited(e, x));
        return handle.pid;
      } catch (err) {
        e.proc.pid = 0;
        throw err;
      } finally {
        e.pending = undefined;
      }
    });
  }

  async #exited(e: ShimProcess, x: KeeperExit): Promise<void> {
    await e.proc.startSettled();
    e.exited(x);
  }

  kill(execId: string, sig: number): void {
    const e = this.get(execId);
    if (e.proc.status === 'created') throw new FailedPrecondition(`process ${execId} has not started`, { containerId: this.containerId });
    if (e.proc.status !== 'running') throw new NotFound('process already finished', { containerId: this.containerId });
    e.signalOrNotFound(sig);
  }

  /** Delete of an exec that has stopped or never started: forgotten, with its result. */
  async delete(execId: string): Promise<ExitInfo> {
    const e = this.get(execId);
    e.proc.transition('delete');
    this.#byId.delete(execId);
    await e.io.close();
    return { pid: e.pid, exitStatus: e.proc.exitStatus, exitedAt: e.proc.exitedAt };
  }

  /** Resolves once no exec is starting and every exit reported has been handled. */
  async settled(): Promise<void> {
    for (const x of this.#byId.values()) {
      await x.proc.startSettled();
      await x.handled;
    }
  }

  /** Their stdio closed (the container goes). */
  async closeIO(): Promise<void> {
    await Promise.all([...this.#byId.values()].map((e) => e.io.close()));
  }

  /** Their journal lines gone (the container is deleted). */
  forget(): void {
    for (const x of this.#byId.values()) x.forget();
  }

  /** What we hold of them let go (the keeper went). */
  release(): void {
    for (const e of this.#byId.values()) e.release();
  }

  /** An exec an earlier brain left in the journal, as it was; reclaim() then takes its process. */
  restore(x: ExecLine): void {
    const p = this.#make(x.execId, x.stdio, ProcessIO.adopt(this.deps.link, x.io), x.spec);
    p.proc.restore(processState(x));
    if (x.pending === 'start') p.pending = 'start';
    this.#byId.set(x.execId, p);
  }

  /** Each restored exec's process claimed again from the keeper, or stopped when its start
   *  was cut short. */
  async reclaim(): Promise<void> {
    for (const p of this.#byId.values()) await this.#reclaim(p);
  }

  /** An exec not started yet: the process's ends of its stdio went with the brain that
   *  opened them, and it would start on /dev/null. Its stdio is opened anew from containerd's
   *  paths, before the old is closed (a fifo whose last writer goes reads as the end). */
  async #reopen(p: ShimProcess): Promise<void> {
    let io: ProcessIO;
    try {
      io = await ProcessIO.open(this.deps.link, {
        ...p.proc.stdio,
        containerId: this.containerId,
        namespace: this.deps.namespace,
        uid: this.options.ioUid,
        gid: this.options.ioGid,
      });
    } catch (err) {
      logger.warn(`exec ${p.proc.id} of ${this.containerId}: its stdio could not be opened again: ${messageOf(err)}`);
      return;
    }
    const fresh = this.#make(p.proc.id, p.proc.stdio, io, p.spec as ProcessSpec);
    fresh.proc.restore({ status: 'created', pid: 0, exitStatus: 0, exitedAt: undefined });
    this.#byId.set(p.proc.id, fresh);
    fresh.save();
    await p.io.close();
  }

  async #reclaim(p: ShimProcess): Promise<void> {
    if (p.pending === 'start') {
      // Its start was cut short, after or before tsrun-init said its pid: whatever it
      // became is stopped, and the exec stays created (containerd was told the start's
      // outcome is unknown; it deletes the exec, or starts it again).
      if (p.pid > 0) {
        // (Its exit comes once this brain has taken the group; it is only acknowledged.)
        const pid = p.pid;
        const ref = pidfdRef(await keeperSpawner(this.deps.link, p.io.id).claim(pid));
        try {
          ref.signal(SIGKILL);
        } catch {
          // gone already
        }
        ref.release();
        void this.deps.link.exit(pid).then((e) => this.deps.link.ack(e.pid));
      }
      p.proc.restore({ status: 'created', pid: 0, exitStatus: 0, exitedAt: undefined });
      p.pending = undefined;
      await this.#reopen(p);
      return;
    }
    if (p.proc.status === 'created') await this.#reopen(p);
    if (p.proc.status === 'running') {
      const pidfd = await keeperSpawner(this.deps.link, p.io.id).claim(p.pid);
      p.watch(p.pid, pidfdRef(pidfd), (e) => this.#exited(p, e));
    }
  }
}

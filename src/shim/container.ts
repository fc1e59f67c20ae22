// One container of a group: its init and its execs (each a ShimProcess: transition table,
// stdio, exit, journal line), its rootfs mounts and OOM watch, around the runtime's
// container (created and started in-process, through the group's keeper). restore() takes
// a container over from the journal an earlier brain left.
//
// The runtime's work goes through the library's Runtime: create and exec with the group's
// keeper as the spawner of that one call and the stdio and console socket the keeper holds,
// signals to every process, the freezer, OOM kills and pids by the library's verbs. Only the
// statistics read the cgroups themselves (metrics.ts), where the library says they are.
import { create as createMessage, toBinary } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { constants as os } from 'node:os';
import path from 'node:path';
import type { CreateTaskRequest, ExecProcessRequest } from '../gen/containerd/task/v2/shim_pb.js';
import { ProcessDetailsSchema } from '../gen/containerd/runc/v1/options_pb.js';
import { ProcessInfoSchema, type ProcessInfo } from '../gen/containerd/types/task/task_pb.js';
import { TaskOOMSchema } from '../gen/containerd/events/task_pb.js';
import { AlreadyExists, FailedPrecondition, messageOf, NotFound, Unimplemented } from '../errors.js';
import { logger } from '../log.js';
import { Runtime } from '../api/index.js';
import type { StdioSlot } from '../api/index.js';
import { cgroupManager } from '../cgroups/factory.js';
import type { EventSink } from './events.js';
import { ProcessIO } from './io/process-io.js';
import { containerKey, encodeLine, execKey, type ContainerLine, type ExecLine, type ProcessLine } from './journal.js';
import type { KeeperExit, KeeperLink } from './keeper/link.js';
import { keeperSpawner } from './keeper/spawner.js';
import type { ShimOptions } from './options.js';
import type { Stdio } from './process.js';
import { mountRootfs, unmountAll } from './rootfs.js';
import { handleRef, pidfdRef, ShimProcess } from './shim-process.js';
import { execSpec, resourcesSpec } from './specs.js';

const { SIGKILL } = os.signals;

export interface ContainerDeps {
  namespace: string;
  events: EventSink;
  /** the group's keeper: the parent of the container's processes, holder of their stdio,
   *  its events and its journal */
  link: KeeperLink;
  /** what Connect reports as the shim's pid: the group's keeper */
  shimPid: number;
}

export interface ExitInfo {
  pid: number;
  exitStatus: number;
  exitedAt: Date | undefined;
}

/** The keeper's ends as the library takes them: -1 is /dev/null. */
const slots = (fds: readonly number[]): [StdioSlot, StdioSlot, StdioSlot] => fds.map((fd) => (fd < 0 ? 'ignore' : fd)) as [StdioSlot, StdioSlot, StdioSlot];

const stdioOf = (r: { stdin: string; stdout: string; stderr: string; terminal: boolean }): Stdio => ({
  stdin: r.stdin,
  stdout: r.stdout,
  stderr: r.stderr,
  terminal: r.terminal,
});

/** The library's runtime on a state root of the shim's, with a container's options. */
const runtimeOn = (root: string, options: ShimOptions): Runtime => new Runtime({ root, systemdCgroup: options.systemdCgroup });

export class ShimContainer {
  readonly init: ShimProcess;
  readonly #execs = new Map<string, ShimProcess>();
  #stopOomWatch: (() => void) | undefined;
  #ownPidNamespace: boolean | undefined;

  private constructor(
    private readonly deps: ContainerDeps,
    readonly id: string,
    /** the library's runtime on the container's state root */
    private readonly rt: Runtime,
    readonly bundle: string,
    io: ProcessIO,
    /** <bundle>/rootfs when we mounted it */
    private readonly mountedRootfs: string | undefined,
    stdio: Stdio,
    private readonly options: ShimOptions,
  ) {
    this.init = new ShimProcess(deps, 'init', id, id, stdio, io, containerKey(id), () => this.#lineExtra());
  }

  #lineExtra(): Omit<ContainerLine, keyof ProcessLine> {
    return { id: this.id, bundle: this.bundle, ...(this.mountedRootfs ? { mounted: this.mountedRootfs } : {}), options: this.options };
  }

  /** root: the state root (<root>/<namespace>) */
  static async create(deps: ContainerDeps, req: CreateTaskRequest, root: string, options: ShimOptions): Promise<ShimContainer> {
    if (req.checkpoint) throw new Unimplemented('checkpoint: restoring a task from a checkpoint is not supported yet');
    const undo: Array<() => void | Promise<void>> = [];
    const rollback = async (): Promise<void> => {
      for (const step of undo.reverse()) {
        try {
          await step();
        } catch (err) {
          logger.warn(`undo create of ${req.id}: ${messageOf(err)}`);
        }
      }
    };
    const key = containerKey(req.id);
    try {
      let mounted: string | undefined;
      if (req.rootfs.length > 0) {
        const target = path.join(req.bundle, 'rootfs');
        mountRootfs(req.rootfs, target);
        mounted = target;
        undo.push(() => unmountAll(target));
      }
      const io = await ProcessIO.open(deps.link, {
        stdin: req.stdin,
        stdout: req.stdout,
        stderr: req.stderr,
        terminal: req.terminal,
        containerId: req.id,
        namespace: deps.namespace,
        uid: options.ioUid,
        gid: options.ioGid,
      });
      undo.push(() => io.close());
      // A brain that dies from here on leaves its successor what to undo.
      const line = (pid: number): ContainerLine => ({
        v: 1,
        status: 'new',
        pending: 'create',
        pid,
        exitStatus: 0,
        io: io.id,
        stdio: stdioOf(req),
        id: req.id,
        bundle: req.bundle,
        ...(mounted ? { mounted } : {}),
        options,
      });
      deps.link.record(key, encodeLine(line(0)));
      undo.push(() => deps.link.forget(key));
      const rt = runtimeOn(root, options);
      const handle = await rt.create(req.id, {
        bundle: req.bundle,
        stdio: slots(io.stdio),
        consoleSocketFd: io.consoleSocketFd,
        noPivot: options.noPivot,
        noNewKeyring: options.noNewKeyring,
        spawner: keeperSpawner(deps.link, io.id, (pid) => deps.link.record(key, encodeLine(line(pid)))),
      });
      const pid = handle.pid;
      undo.push(async () => {
        handle.unref();
        await rt.delete(req.id, { force: true });
        // Killed by the delete (its cgroup): its exit is ours to acknowledge.
        deps.link.ack((await deps.link.exit(pid)).pid);
      });
      io.started();
      const sc = new ShimContainer(deps, req.id, rt, req.bundle, io, mounted, stdioOf(req), options);
      sc.init.proc.created(pid, { bundle: req.bundle, rootfs: req.rootfs, checkpoint: req.checkpoint });
      sc.init.watch(pid, handleRef(handle), (e) => sc.#initExited(e));
      return sc;
    } catch (err) {
      await rollback();
      throw err;
    }
  }

  /**
   * A container an earlier brain left in the journal, taken over: its processes claimed again
   * from the keeper (their exits, and those that came while no brain ran, follow), and what
   * was cut short judged from the runtime's state. A create cut short is undone (undefined);
   * a start cut short happened when the runtime says the container runs; a delete cut short
   * is finished, and the container stays stopped for containerd to delete it again.
   */
  static async restore(deps: ContainerDeps, line: ContainerLine, execs: ExecLine[], root: string): Promise<ShimContainer | undefined> {
    const io = ProcessIO.adopt(deps.link, line.io);
    const rt = runtimeOn(root, line.options);
    const state = line.pending === 'create' ? undefined : await rt.state(line.id).catch((err: unknown) => (err instanceof NotFound ? undefined : Promise.reject(err)));
    if (!state) {
      await undoCreate(deps, line, execs, rt, io);
      return undefined;
    }
    const sc = new ShimContainer(deps, line.id, rt, line.bundle, io, line.mounted, line.stdio, line.options);
    sc.init.proc.restore({ status: line.status, pid: line.pid, exitStatus: line.exitStatus, exitedAt: line.exitedAt ? new Date(line.exitedAt) : undefined });
    for (const x of execs) sc.#restoreExec(x);
    const live = ['created', 'running', 'pausing', 'paused'].includes(line.status);
    if (live) {
      const pidfd = await keeperSpawner(deps.link, line.io).claim(line.pid);
      sc.init.watch(line.pid, pidfdRef(pidfd), (e) => sc.#initExited(e));
      // What the runtime says now settles what the journal could not.
      const now = state.status;
      if (line.status === 'created' && now === 'running' && sc.init.proc.can('start')) sc.init.proc.transition('start');
      if (line.status === 'pausing') sc.init.proc.transition(now === 'paused' ? 'paused' : 'pauseFailed');
      if (sc.init.proc.status === 'running' || sc.init.proc.status === 'paused') sc.#watchOom();
    }
    for (const x of sc.#execs.values()) await sc.#reclaimExec(x);
    if (line.pending === 'delete') {
      await sc.#teardown();
      sc.init.pending = undefined;
    }
    sc.init.save();
    return sc;
  }

  #restoreExec(x: ExecLine): void {
    const io = ProcessIO.adopt(this.deps.link, x.io);
    const p = new ShimProcess(this.deps, 'exec', this.id, x.execId, x.stdio, io, execKey(this.id, x.execId), () => ({ containerId: this.id, execId: x.execId, spec: x.spec }), x.spec);
    p.proc.restore({ status: x.status, pid: x.pid, exitStatus: x.exitStatus, exitedAt: x.exitedAt ? new Date(x.exitedAt) : undefined });
    if (x.pending === 'start') p.pending = 'start';
    this.#execs.set(x.execId, p);
  }

  async #reclaimExec(p: ShimProcess): Promise<void> {
    if (p.pending === 'start') {
      // Its start was cut short, after or before tsrun-init said its pid: whatever it
      // became is stopped, and the exec stays created (containerd was told the start's
      // outcome is unknown; it deletes the exec, or starts it again).
      if (p.pid > 0) {
        // (Its exit comes once this brain has taken the group; it is only acknowledged.)
        const pid = p.pid;
        const ref = pidfdRef(await keeperSpawner(this.deps.link, p.io.id).claim(pid));
        ref.signal(SIGKILL);
        ref.release();
        void this.deps.link.exit(pid).then((e) => this.deps.link.ack(e.pid));
      }
      p.proc.restore({ status: 'created', pid: 0, exitStatus: 0, exitedAt: undefined });
      p.pending = undefined;
      return;
    }
    if (p.proc.status === 'running') {
      const pidfd = await keeperSpawner(this.deps.link, p.io.id).claim(p.pid);
      p.watch(p.pid, pidfdRef(pidfd), (e) => this.#execExited(p, e));
    }
  }

  /** The init (execId "") or an exec; NotFound for an unknown exec. */
  process(execId: string): ShimProcess {
    if (!execId) return this.init;
    const e = this.#execs.get(execId);
    if (!e) throw new NotFound(`process ${execId} does not exist`, { containerId: this.id });
    return e;
  }

  /** Whether the container has a pid namespace of its own (its config says so; read once). */
  async #ownsPidNamespace(): Promise<boolean> {
    this.#ownPidNamespace ??= ((await this.rt.config(this.id)).linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path);
    return this.#ownPidNamespace;
  }

  async start(execId: string): Promise<number> {
    if (execId) return this.#startExec(execId);
    return this.init.proc.start(async () => {
      this.init.pending = 'start';
      try {
        await this.rt.start(this.id);
      } finally {
        this.init.pending = undefined;
      }
      this.#watchOom();
      return this.init.pid;
    });
  }

  /** /tasks/oom for each OOM kill in the container's cgroup, from Start until Delete. */
  #watchOom(): void {
    const oomKills = this.rt.events(this.id, { stats: false });
    const stop = (): void => void oomKills.return?.();
    this.#stopOomWatch = stop;
    void (async () => {
      try {
        for await (const e of oomKills) if (e.type === 'oom') this.deps.events.publish('/tasks/oom', TaskOOMSchema, { containerId: this.id });
      } catch (err) {
        logger.warn(`watch ${this.id} for OOM kills: ${messageOf(err)}`);
      } finally {
        if (this.#stopOomWatch === stop) this.#stopOomWatch = undefined;
      }
    })();
  }

  /** The keeper reports the init's exit once its output is drained; it is published after
   *  every exec's. */
  async #initExited(e: KeeperExit): Promise<void> {
    try {
      await this.init.proc.startSettled();
      // Without a pid namespace of its own, the init's death takes nobody with it.
      if (!(await this.#ownsPidNamespace())) await this.rt.kill(this.id, SIGKILL, { all: true });
      for (const x of this.#execs.values()) {
        await x.proc.startSettled();
        await x.handled;
      }
    } catch (err) {
      logger.warn(`after the exit of ${this.id}: ${messageOf(err)}`);
    }
    this.init.exited(e);
  }

  /** The freezer's state back as the task's is, after a signal to all (which thaws what it
   *  froze) or a SIGKILL (which a frozen process takes only once thawed); quietly nothing
   *  when the container is no longer what it would change (its processes went). */
  async #freezer(to: 'pause' | 'resume'): Promise<void> {
    try {
      await (to === 'pause' ? this.rt.pause(this.id) : this.rt.resume(this.id));
    } catch (err) {
      if (!(err instanceof FailedPrecondition)) throw err;
    }
  }

  async kill(execId: string, sig: number, all: boolean): Promise<void> {
    if (execId) {
      const e = this.#execs.get(execId);
      if (!e) throw new NotFound(`process ${execId} does not exist`, { containerId: this.id });
      if (e.proc.status === 'created') throw new FailedPrecondition(`process ${execId} has not started`, { containerId: this.id });
      if (e.proc.status !== 'running') throw new NotFound('process already finished', { containerId: this.id });
      e.signalOrNotFound(sig);
      return;
    }
    const paused = this.init.proc.status === 'paused';
    if (all) {
      // (Rootless without a cgroup, the library signals the init, whose pid namespace takes the rest.)
      await this.rt.kill(this.id, sig, { all: true });
      // A signal to all thaws what it froze to signal; a paused task stays paused unless killed.
      if (paused && sig !== SIGKILL) await this.#freezer('pause');
      return;
    }
    this.init.signalOrNotFound(sig);
    // A frozen process dies only once thawed.
    if (paused && sig === SIGKILL) await this.#freezer('resume');
  }

  async pause(): Promise<void> {
    this.init.proc.transition('pause');
    try {
      await this.rt.pause(this.id);
    } catch (err) {
      if (this.init.proc.can('pauseFailed')) this.init.proc.transition('pauseFailed');
      throw err;
    }
    if (this.init.proc.can('paused')) this.init.proc.transition('paused');
  }

  async resume(): Promise<void> {
    if (!this.init.proc.can('resume')) throw new FailedPrecondition(`cannot resume task ${this.id}: it is ${this.init.proc.status}`, { containerId: this.id });
    await this.rt.resume(this.id);
    if (this.init.proc.can('resume')) this.init.proc.transition('resume');
  }

  /** Every process in the container's cgroup; those of execs say which exec. */
  async pids(): Promise<ProcessInfo[]> {
    const byPid = new Map<number, string>();
    for (const [id, e] of this.#execs) if (e.pid > 0 && e.proc.status === 'running') byPid.set(e.pid, id);
    return (await this.rt.ps(this.id)).map((pid) => {
        const execId = byPid.get(pid);
        return createMessage(ProcessInfoSchema, {
          pid,
          // The bare message name, as containerd's typeurl writes it: ctr cannot read the
          // type.googleapis.com/ form.
          info: execId
            ? createMessage(AnySchema, {
                typeUrl: ProcessDetailsSchema.typeName,
                value: toBinary(ProcessDetailsSchema, createMessage(ProcessDetailsSchema, { execId })),
              })
            : undefined,
        });
      });
  }

  closeStdin(execId: string): void {
    this.process(execId).io.closeStdin();
  }

  resize(execId: string, width: number, height: number): void {
    this.process(execId).io.resize(width, height);
  }

  /** Delete of the init: the container goes, with everything it had. */
  async delete(): Promise<ExitInfo> {
    const s = this.init.proc.status;
    if (s === 'running' || s === 'paused' || s === 'pausing') {
      throw new FailedPrecondition(`cannot delete task ${this.id}: it is ${s}`, { containerId: this.id });
    }
    if (s === 'created') this.init.signal(SIGKILL);
    await this.init.handled;
    this.init.pending = 'delete';
    await this.#teardown();
    for (const x of this.#execs.values()) x.forget();
    const p = this.init.proc;
    p.transition('delete');
    return { pid: p.pid, exitStatus: p.exitStatus, exitedAt: p.exitedAt };
  }

  /**
   * containerd lost the shim for this container (`delete` while we live): stop whatever
   * runs, then delete as usual.
   */
  async forceDelete(): Promise<ExitInfo> {
    if (!this.init.reaped && this.init.proc.status !== 'stopped') {
      if (await this.#ownsPidNamespace()) this.init.signal(SIGKILL);
      else await this.rt.kill(this.id, SIGKILL, { all: true });
      if (this.init.proc.status === 'paused' || this.init.proc.status === 'pausing') await this.#freezer('resume');
    }
    await this.init.handled;
    return this.delete();
  }

  async #teardown(): Promise<void> {
    this.#stopOomWatch?.();
    this.#stopOomWatch = undefined;
    try {
      await this.rt.delete(this.id, { force: true });
    } finally {
      await Promise.all([this.init.io.close(), ...[...this.#execs.values()].map((e) => e.io.close())]);
      if (this.mountedRootfs) unmountAll(this.mountedRootfs);
    }
  }

  /** The group's keeper is gone and containerd cleans up after it (its stdio went with the
   *  keeper, the processes are for its `delete` to stop): we only let go of what we hold. */
  abandon(): void {
    this.#stopOomWatch?.();
    this.#stopOomWatch = undefined;
    this.init.release();
    for (const e of this.#execs.values()) e.release();
  }

  /** Exec: registers a process to start later (containerd validated the exec id). */
  async exec(req: ExecProcessRequest): Promise<void> {
    if (this.#execs.has(req.execId)) throw new AlreadyExists(`id ${req.execId}`, { containerId: this.id });
    if (this.init.reaped || this.init.proc.status === 'stopped' || this.init.proc.status === 'deleted') {
      throw new FailedPrecondition(`container ${this.id} init process is not running`, { containerId: this.id });
    }
    const spec = execSpec(req.spec);
    spec.terminal = req.terminal;
    const io = await ProcessIO.open(this.deps.link, {
      stdin: req.stdin,
      stdout: req.stdout,
      stderr: req.stderr,
      terminal: req.terminal,
      containerId: this.id,
      namespace: this.deps.namespace,
      uid: this.options.ioUid,
      gid: this.options.ioGid,
    });
    if (this.#execs.has(req.execId)) {
      await io.close();
      throw new AlreadyExists(`id ${req.execId}`, { containerId: this.id });
    }
    const p = new ShimProcess(this.deps, 'exec', this.id, req.execId, stdioOf(req), io, execKey(this.id, req.execId), () => ({ containerId: this.id, execId: req.execId, spec }), spec);
    this.#execs.set(req.execId, p);
    p.proc.created(0);
  }

  async #startExec(execId: string): Promise<number> {
    const e = this.process(execId);
    return e.proc.start(async () => {
      // After the init's exit no exec may start: its exit would come after the init's.
      if (this.init.reaped) throw new FailedPrecondition(`container ${this.id} init process is not running`, { containerId: this.id });
      const initStatus = this.init.proc.status;
      if (initStatus === 'paused' || initStatus === 'pausing') {
        throw new FailedPrecondition(`cannot exec in a ${initStatus} container`, { containerId: this.id });
      }
      e.pending = 'start';
      try {
        const handle = await this.rt.exec(this.id, e.spec as NonNullable<typeof e.spec>, {
          stdio: slots(e.io.stdio),
          consoleSocketFd: e.io.consoleSocketFd,
          spawner: keeperSpawner(this.deps.link, e.io.id, (pid) => (e.proc.pid = pid)),
        });
        e.io.started();
        e.watch(handle.pid, handleRef(handle), (x) => this.#execExited(e, x));
        return handle.pid;
      } catch (err) {
        e.proc.pid = 0;
        throw err;
      } finally {
        e.pending = undefined;
      }
    });
  }

  async #execExited(e: ShimProcess, x: KeeperExit): Promise<void> {
    await e.proc.startSettled();
    e.exited(x);
  }

  /** Delete of an exec that has stopped or never started: forgotten, with its result. */
  async deleteExec(execId: string): Promise<ExitInfo> {
    const e = this.process(execId);
    e.proc.transition('delete');
    this.#execs.delete(execId);
    await e.io.close();
    return { pid: e.pid, exitStatus: e.proc.exitStatus, exitedAt: e.proc.exitedAt };
  }

  /** New resource limits (runc update --resources semantics); containerd's annotations need nothing of us. */
  async update(resources: Any | undefined): Promise<void> {
    if (this.init.reaped) throw new FailedPrecondition(`cannot update task ${this.id}: it has stopped`, { containerId: this.id });
    await this.rt.update(this.id, resourcesSpec(resources), { field: 'linux.resources' });
  }

  async stats(): Promise<Any> {
    // Loaded by the first Stats call: the cgroup metrics' message types are a quarter of a
    // megabyte of heap, held for good, that a server nobody asks for statistics never needs.
    const { metricsOf } = await import('./metrics.js');
    return metricsOf(cgroupManager(await this.rt.cgroups(this.id)));
  }
}

/** A create cut short by its brain's death: everything it may have made goes (its processes
 *  with its cgroups, its state, mounts and stdio), and so do its lines. */
async function undoCreate(deps: ContainerDeps, line: ContainerLine, execs: ExecLine[], rt: Runtime, io: ProcessIO): Promise<void> {
  logger.warn(`container ${line.id}: its create was cut short by the brain's end; undoing it`);
  try {
    // (none made: a forced delete succeeds)
    await rt.delete(line.id, { force: true });
  } catch (err) {
    logger.warn(`undo create of ${line.id}: ${messageOf(err)}`);
  }
  if (line.mounted) unmountAll(line.mounted);
  await io.close();
  deps.link.forget(containerKey(line.id));
  for (const x of execs) deps.link.forget(execKey(line.id, x.execId));
}

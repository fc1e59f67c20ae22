// One container of a group: its init and its execs (each a ShimProcess: transition table,
// stdio, exit, journal line), its rootfs mounts and OOM watch, around the runtime's
// container (created and started in-process, through the group's keeper). restore() takes
// a container over from the journal an earlier brain left.
//
// The verbs the library serves as they are (start, pause, resume, update, delete) go through
// its Runtime. Create and exec still call the runtime (src/runtime) directly: they hand it
// the group's keeper as the spawner of that one call, console sockets and stdio the keeper
// holds, and take the pidfds the keeper claims; signals, OOM watches, pids and metrics work
// on the container's cgroups themselves. The library has no face for either yet.
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
import { pidfdSendSignal } from '../native/index.js';
import { Container } from '../runtime/container.js';
import { createInit } from '../runtime/create.js';
import { Runtime } from '../api/runtime.js';
import { startExec } from '../runtime/exec.js';
import { noCgroupToSignal, signalAll } from '../runtime/kill.js';
import { hasCgroups } from '../cgroups/rootless.js';
import type { StateStore } from '../runtime/state-store.js';
import type { EventSink } from './events.js';
import { ProcessIO } from './io/process-io.js';
import { containerKey, encodeLine, execKey, type ContainerLine, type ExecLine, type ProcessLine } from './journal.js';
import type { KeeperExit, KeeperLink } from './keeper/link.js';
import { closePidfd, keeperSpawner } from './keeper/spawner.js';
import type { ShimOptions } from './options.js';
import type { Stdio } from './process.js';
import { mountRootfs, unmountAll } from './rootfs.js';
import { ShimProcess } from './shim-process.js';
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

const stdioOf = (r: { stdin: string; stdout: string; stderr: string; terminal: boolean }): Stdio => ({
  stdin: r.stdin,
  stdout: r.stdout,
  stderr: r.stderr,
  terminal: r.terminal,
});

/** The library's runtime on a store of the shim's. */
const runtimeOn = (store: StateStore): Runtime => new Runtime({ root: store.root });

export class ShimContainer {
  readonly init: ShimProcess;
  readonly #execs = new Map<string, ShimProcess>();
  readonly #rt: Runtime;
  #stopOomWatch: (() => void) | undefined;

  private constructor(
    private readonly deps: ContainerDeps,
    readonly runtime: Container,
    store: StateStore,
    readonly bundle: string,
    io: ProcessIO,
    /** <bundle>/rootfs when we mounted it */
    private readonly mountedRootfs: string | undefined,
    stdio: Stdio,
    private readonly options: ShimOptions,
  ) {
    this.init = new ShimProcess(deps, 'init', runtime.id, runtime.id, stdio, io, containerKey(runtime.id), () => this.#lineExtra());
    this.#rt = runtimeOn(store);
  }

  get id(): string {
    return this.runtime.id;
  }

  #lineExtra(): Omit<ContainerLine, keyof ProcessLine> {
    return { id: this.id, bundle: this.bundle, ...(this.mountedRootfs ? { mounted: this.mountedRootfs } : {}), options: this.options };
  }

  static async create(deps: ContainerDeps, req: CreateTaskRequest, store: StateStore, options: ShimOptions): Promise<ShimContainer> {
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
      const { container, pidfd } = await createInit(store, {
        id: req.id,
        bundle: req.bundle,
        stdio: io.stdio,
        consoleSocketFd: io.consoleSocketFd,
        noPivot: options.noPivot,
        noNewKeyring: options.noNewKeyring,
        systemdCgroup: options.systemdCgroup,
        spawner: keeperSpawner(deps.link, io.id, (pid) => deps.link.record(key, encodeLine(line(pid)))),
      });
      const pid = container.state.pid;
      undo.push(async () => {
        if (pidfd >= 0) closePidfd(pidfd);
        await runtimeOn(store).delete(req.id, { force: true });
        // Killed by the delete (its cgroup): its exit is ours to acknowledge.
        deps.link.ack((await deps.link.exit(pid)).pid);
      });
      io.started();
      const sc = new ShimContainer(deps, container, store, req.bundle, io, mounted, stdioOf(req), options);
      sc.init.proc.created(pid, { bundle: req.bundle, rootfs: req.rootfs, checkpoint: req.checkpoint });
      sc.init.watch(pid, pidfd, (e) => sc.#initExited(e));
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
  static async restore(deps: ContainerDeps, line: ContainerLine, execs: ExecLine[], store: StateStore): Promise<ShimContainer | undefined> {
    const io = ProcessIO.adopt(deps.link, line.io);
    if (line.pending === 'create' || !store.hasDir(line.id)) {
      await undoCreate(deps, line, execs, store, io);
      return undefined;
    }
    const runtime = Container.load(store, line.id);
    const sc = new ShimContainer(deps, runtime, store, line.bundle, io, line.mounted, line.stdio, line.options);
    sc.init.proc.restore({ status: line.status, pid: line.pid, exitStatus: line.exitStatus, exitedAt: line.exitedAt ? new Date(line.exitedAt) : undefined });
    for (const x of execs) sc.#restoreExec(x);
    const live = ['created', 'running', 'pausing', 'paused'].includes(line.status);
    if (live) {
      const pidfd = await keeperSpawner(deps.link, line.io).claim(line.pid);
      sc.init.watch(line.pid, pidfd, (e) => sc.#initExited(e));
      // What the runtime says now settles what the journal could not.
      const now = runtime.status();
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
        const pidfd = await keeperSpawner(this.deps.link, p.io.id).claim(pid);
        if (pidfd >= 0) {
          try {
            pidfdSendSignal(pidfd, SIGKILL);
          } catch {
            // gone already
          }
          closePidfd(pidfd);
        }
        void this.deps.link.exit(pid).then((e) => this.deps.link.ack(e.pid));
      }
      p.proc.restore({ status: 'created', pid: 0, exitStatus: 0, exitedAt: undefined });
      p.pending = undefined;
      return;
    }
    if (p.proc.status === 'running') {
      const pidfd = await keeperSpawner(this.deps.link, p.io.id).claim(p.pid);
      p.watch(p.pid, pidfd, (e) => this.#execExited(p, e));
    }
  }

  /** The init (execId "") or an exec; NotFound for an unknown exec. */
  process(execId: string): ShimProcess {
    if (!execId) return this.init;
    const e = this.#execs.get(execId);
    if (!e) throw new NotFound(`process ${execId} does not exist`, { containerId: this.id });
    return e;
  }

  get ownPidNamespace(): boolean {
    return this.runtime.state.ownPidNamespace;
  }

  async start(execId: string): Promise<number> {
    if (execId) return this.#startExec(execId);
    return this.init.proc.start(async () => {
      this.init.pending = 'start';
      try {
        await this.#rt.start(this.id);
      } finally {
        this.init.pending = undefined;
      }
      this.#watchOom();
      return this.runtime.state.pid;
    });
  }

  /** /tasks/oom for each OOM kill in the container's cgroup, from Start until Delete. */
  #watchOom(): void {
    try {
      this.#stopOomWatch = this.runtime.cgroup().watchOom(
        () => this.deps.events.publish('/tasks/oom', TaskOOMSchema, { containerId: this.id }),
        () => (this.#stopOomWatch = undefined),
      );
    } catch (err) {
      logger.warn(`watch ${this.id} for OOM kills: ${messageOf(err)}`);
    }
  }

  /** The keeper reports the init's exit once its output is drained; it is published after
   *  every exec's. */
  async #initExited(e: KeeperExit): Promise<void> {
    try {
      await this.init.proc.startSettled();
      // Without a pid namespace of its own, the init's death takes nobody with it.
      if (!this.ownPidNamespace) await this.#signalCgroup(SIGKILL);
      for (const x of this.#execs.values()) {
        await x.proc.startSettled();
        await x.handled;
      }
    } catch (err) {
      logger.warn(`after the exit of ${this.id}: ${messageOf(err)}`);
    }
    this.init.exited(e);
  }

  async #signalCgroup(sig: number): Promise<void> {
    const cgroup = this.runtime.cgroup();
    if (cgroup.exists()) await signalAll(cgroup, sig);
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
    if (all && !hasCgroups(this.runtime.state.cgroupPaths)) {
      // Rootless without a cgroup: nothing lists the processes, but with a pid namespace of
      // its own they go with the init (the tsrun CLI does the same).
      if (!this.ownPidNamespace) throw noCgroupToSignal(this.id);
      if (!this.init.reaped) this.init.signal(sig);
      return;
    }
    if (all) {
      await this.#signalCgroup(sig);
      // signalAll thaws what it froze to signal; a paused task stays paused unless killed.
      if (paused && sig !== SIGKILL) await this.runtime.cgroup().freeze();
      return;
    }
    this.init.signalOrNotFound(sig);
    // A frozen process dies only once thawed.
    if (paused && sig === SIGKILL) await this.runtime.cgroup().thaw();
  }

  async pause(): Promise<void> {
    this.init.proc.transition('pause');
    try {
      await this.#rt.pause(this.id);
    } catch (err) {
      if (this.init.proc.can('pauseFailed')) this.init.proc.transition('pauseFailed');
      throw err;
    }
    if (this.init.proc.can('paused')) this.init.proc.transition('paused');
  }

  async resume(): Promise<void> {
    if (!this.init.proc.can('resume')) throw new FailedPrecondition(`cannot resume task ${this.id}: it is ${this.init.proc.status}`, { containerId: this.id });
    await this.#rt.resume(this.id);
    if (this.init.proc.can('resume')) this.init.proc.transition('resume');
  }

  /** Every process in the container's cgroup; those of execs say which exec. */
  pids(): ProcessInfo[] {
    const byPid = new Map<number, string>();
    for (const [id, e] of this.#execs) if (e.pid > 0 && e.proc.status === 'running') byPid.set(e.pid, id);
    return this.runtime
      .cgroup()
      .procs()
      .map((pid) => {
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
      if (this.ownPidNamespace) this.init.signal(SIGKILL);
      else await this.#signalCgroup(SIGKILL);
      if (this.init.proc.status === 'paused' || this.init.proc.status === 'pausing') await this.runtime.cgroup().thaw();
    }
    await this.init.handled;
    return this.delete();
  }

  async #teardown(): Promise<void> {
    this.#stopOomWatch?.();
    this.#stopOomWatch = undefined;
    try {
      await this.#rt.delete(this.id, { force: true });
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
        const handle = await startExec(this.runtime, {
          process: e.spec as NonNullable<typeof e.spec>,
          stdio: e.io.stdio,
          consoleSocketFd: e.io.consoleSocketFd,
          spawner: keeperSpawner(this.deps.link, e.io.id, (pid) => (e.proc.pid = pid)),
        });
        e.io.started();
        e.watch(handle.pid, handle.pidfd, (x) => this.#execExited(e, x));
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
    await this.#rt.update(this.id, resourcesSpec(resources), { field: 'linux.resources' });
  }

  async stats(): Promise<Any> {
    // Loaded by the first Stats call: the cgroup metrics' message types are a quarter of a
    // megabyte of heap, held for good, that a server nobody asks for statistics never needs.
    const { metricsOf } = await import('./metrics.js');
    return metricsOf(this.runtime.cgroup());
  }
}

/** A create cut short by its brain's death: everything it may have made goes (its processes
 *  with its cgroups, its state, mounts and stdio), and so do its lines. */
async function undoCreate(deps: ContainerDeps, line: ContainerLine, execs: ExecLine[], store: StateStore, io: ProcessIO): Promise<void> {
  logger.warn(`container ${line.id}: its create was cut short by the brain's end; undoing it`);
  try {
    if (store.hasDir(line.id)) await runtimeOn(store).delete(line.id, { force: true });
  } catch (err) {
    logger.warn(`undo create of ${line.id}: ${messageOf(err)}`);
  }
  if (line.mounted) unmountAll(line.mounted);
  await io.close();
  deps.link.forget(containerKey(line.id));
  for (const x of execs) deps.link.forget(execKey(line.id, x.execId));
}

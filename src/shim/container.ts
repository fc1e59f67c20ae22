// One container of the server's group: its init process, its execs, their stdio, its rootfs
// mounts and OOM watch, around the runtime's container (created and started in-process).
import { create as createMessage, toBinary } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { constants as os } from 'node:os';
import path from 'node:path';
import type { CreateTaskRequest, ExecProcessRequest } from '../gen/containerd/task/v2/shim_pb.js';
import { ProcessDetailsSchema } from '../gen/containerd/runc/v1/options_pb.js';
import { ProcessInfoSchema, type ProcessInfo } from '../gen/containerd/types/task/task_pb.js';
import { TaskOOMSchema } from '../gen/containerd/events/task_pb.js';
import { AlreadyExists, FailedPrecondition, messageOf, NotFound, SystemError, Unimplemented } from '../errors.js';
import { logger } from '../log.js';
import { exitCodeOf, pidfdSendSignal } from '../native/index.js';
import type { Container } from '../runtime/container.js';
import { createInit } from '../runtime/create.js';
import { deleteContainer } from '../runtime/delete.js';
import { startExec } from '../runtime/exec.js';
import { noCgroupToSignal, signalAll } from '../runtime/kill.js';
import { hasCgroups } from '../cgroups/rootless.js';
import type { ProcessSpec } from '../oci/spec.js';
import { pause, resume } from '../runtime/pause.js';
import { update } from '../runtime/update.js';
import { start } from '../runtime/start.js';
import type { StateStore } from '../runtime/state-store.js';
import type { EventSink } from './events.js';
import { ProcessIO } from './io/process-io.js';
import type { KeeperExit, KeeperLink } from './keeper/link.js';
import { closePidfd, keeperSpawner } from './keeper/spawner.js';
import type { ShimOptions } from './options.js';
import { Process, type Stdio } from './process.js';
import { mountRootfs, unmountAll } from './rootfs.js';
import { execSpec, resourcesSpec } from './specs.js';

const { SIGKILL } = os.signals;
const { ESRCH } = os.errno;

export interface ContainerDeps {
  namespace: string;
  events: EventSink;
  /** the group's keeper: the parent of the container's processes, holder of their stdio */
  link: KeeperLink;
  /** what Connect reports as the shim's pid: the group's keeper */
  shimPid: number;
}

export interface ExitInfo {
  pid: number;
  exitStatus: number;
  exitedAt: Date | undefined;
}

/** A process of ours (the keeper's child): its pidfd for signals (-1 once it had exited by
 *  the time it was claimed), and its exit. */
interface Running {
  pidfd: number;
  /** settles when its exit has been handled (published) */
  handled: Promise<void>;
}

interface ExecEntry {
  proc: Process;
  io: ProcessIO;
  spec: ProcessSpec;
  running?: Running;
}

export class ShimContainer {
  readonly init: Process;
  readonly #execs = new Map<string, ExecEntry>();
  #running: Running | undefined;
  /** Set when the init has been reaped: no exec may start any more. */
  #initReaped = false;
  #stopOomWatch: (() => void) | undefined;

  private constructor(
    private readonly deps: ContainerDeps,
    readonly runtime: Container,
    private readonly store: StateStore,
    readonly bundle: string,
    private readonly io: ProcessIO,
    /** <bundle>/rootfs when we mounted it */
    private readonly mountedRootfs: string | undefined,
    stdio: Stdio,
    private readonly options: ShimOptions,
  ) {
    this.init = new Process('init', runtime.id, runtime.id, stdio, deps.events);
  }

  get id(): string {
    return this.runtime.id;
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
      const { container, pidfd } = await createInit(store, {
        id: req.id,
        bundle: req.bundle,
        stdio: io.stdio,
        consoleSocketFd: io.consoleSocketFd,
        noPivot: options.noPivot,
        noNewKeyring: options.noNewKeyring,
        systemdCgroup: options.systemdCgroup,
        spawner: keeperSpawner(deps.link, io.id),
      });
      const pid = container.state.pid;
      const exit = deps.link.exit(pid);
      undo.push(async () => {
        signal(pidfd, SIGKILL);
        await exit;
        deps.link.ack(pid);
        closePidfd(pidfd);
        await deleteContainer(store, req.id, true);
      });
      io.started();
      const stdio = { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal };
      const sc = new ShimContainer(deps, container, store, req.bundle, io, mounted, stdio, options);
      sc.init.created(container.state.pid, { bundle: req.bundle, rootfs: req.rootfs, checkpoint: req.checkpoint });
      sc.#running = { pidfd, handled: sc.#handleInitExit(pidfd, exit) };
      return sc;
    } catch (err) {
      await rollback();
      throw err;
    }
  }

  /** The init (execId "") or an exec; NotFound for an unknown exec. */
  process(execId: string): Process {
    if (!execId) return this.init;
    const e = this.#execs.get(execId);
    if (!e) throw new NotFound(`process ${execId} does not exist`, { containerId: this.id });
    return e.proc;
  }

  get ownPidNamespace(): boolean {
    return this.runtime.state.ownPidNamespace;
  }

  async start(execId: string): Promise<number> {
    if (execId) return this.#startExec(execId);
    return this.init.start(async () => {
      await start(this.runtime);
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

  async #handleInitExit(pidfd: number, exit: Promise<KeeperExit>): Promise<void> {
    // The keeper reports it once the init's output is drained.
    const e = await exit;
    this.#initReaped = true;
    try {
      await this.init.startSettled();
      // Without a pid namespace of its own, the init's death takes nobody with it.
      if (!this.ownPidNamespace) await this.#signalCgroup(SIGKILL);
      for (const x of this.#execs.values()) {
        await x.proc.startSettled();
        await x.running?.handled;
      }
    } catch (err) {
      logger.warn(`after the exit of ${this.id}: ${messageOf(err)}`);
    }
    closePidfd(pidfd);
    // The event and the keeper's leave to forget the exit go in one commit.
    this.deps.link.ack(e.pid);
    this.init.exited(exitCodeOf(e), e.at);
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
      if (!e.running || e.proc.status !== 'running') throw new NotFound('process already finished', { containerId: this.id });
      signalOrNotFound(e.running.pidfd, sig);
      return;
    }
    const paused = this.init.status === 'paused';
    if (all && !hasCgroups(this.runtime.state.cgroupPaths)) {
      // Rootless without a cgroup: nothing lists the processes, but with a pid namespace of
      // its own they go with the init (the tsrun CLI does the same).
      if (!this.ownPidNamespace) throw noCgroupToSignal(this.id);
      if (this.#initReaped || !this.#running) return;
      signalOrNotFound(this.#running.pidfd, sig);
      return;
    }
    if (all) {
      await this.#signalCgroup(sig);
      // signalAll thaws what it froze to signal; a paused task stays paused unless killed.
      if (paused && sig !== SIGKILL) await this.runtime.cgroup().freeze();
      return;
    }
    if (this.#initReaped || !this.#running) throw new NotFound('process already finished', { containerId: this.id });
    signalOrNotFound(this.#running.pidfd, sig);
    // A frozen process dies only once thawed.
    if (paused && sig === SIGKILL) await this.runtime.cgroup().thaw();
  }

  async pause(): Promise<void> {
    this.init.transition('pause');
    try {
      await pause(this.runtime);
    } catch (err) {
      if (this.init.can('pauseFailed')) this.init.transition('pauseFailed');
      throw err;
    }
    if (this.init.can('paused')) this.init.transition('paused');
  }

  async resume(): Promise<void> {
    if (!this.init.can('resume')) throw new FailedPrecondition(`cannot resume task ${this.id}: it is ${this.init.status}`, { containerId: this.id });
    await resume(this.runtime);
    if (this.init.can('resume')) this.init.transition('resume');
  }

  /** Every process in the container's cgroup; those of execs say which exec. */
  pids(): ProcessInfo[] {
    const byPid = new Map<number, string>();
    for (const [id, e] of this.#execs) if (e.proc.pid > 0 && e.proc.status === 'running') byPid.set(e.proc.pid, id);
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

  #ioOf(execId: string): ProcessIO {
    if (!execId) return this.io;
    const e = this.#execs.get(execId);
    if (!e) throw new NotFound(`process ${execId} does not exist`, { containerId: this.id });
    return e.io;
  }

  closeStdin(execId: string): void {
    this.#ioOf(execId).closeStdin();
  }

  resize(execId: string, width: number, height: number): void {
    this.#ioOf(execId).resize(width, height);
  }

  /** Delete of the init: the container goes, with everything it had. */
  async delete(): Promise<ExitInfo> {
    const s = this.init.status;
    if (s === 'running' || s === 'paused' || s === 'pausing') {
      throw new FailedPrecondition(`cannot delete task ${this.id}: it is ${s}`, { containerId: this.id });
    }
    if (s === 'created' && this.#running && !this.#initReaped) signal(this.#running.pidfd, SIGKILL);
    await this.#running?.handled;
    await this.#teardown();
    this.init.transition('delete');
    return { pid: this.init.pid, exitStatus: this.init.exitStatus, exitedAt: this.init.exitedAt };
  }

  /**
   * containerd lost the server for this container (`delete` while we live): stop whatever
   * runs, then delete as usual.
   */
  async forceDelete(): Promise<ExitInfo> {
    if (!this.#initReaped && this.#running) {
      if (this.ownPidNamespace) signal(this.#running.pidfd, SIGKILL);
      else await this.#signalCgroup(SIGKILL);
      if (this.init.status === 'paused' || this.init.status === 'pausing') await this.runtime.cgroup().thaw();
    }
    await this.#running?.handled;
    return this.delete();
  }

  async #teardown(): Promise<void> {
    this.#stopOomWatch?.();
    this.#stopOomWatch = undefined;
    try {
      await deleteContainer(this.store, this.id, true);
    } finally {
      await Promise.all([this.io.close(), ...[...this.#execs.values()].map((e) => e.io.close())]);
      if (this.mountedRootfs) unmountAll(this.mountedRootfs);
    }
  }

  /** The group's keeper is gone and containerd cleans up after it (its stdio went with the
   *  keeper, the processes are for its `delete` to stop): we only let go of what we hold. */
  abandon(): void {
    this.#stopOomWatch?.();
    this.#stopOomWatch = undefined;
    if (this.#running) closePidfd(this.#running.pidfd);
    for (const e of this.#execs.values()) if (e.running) closePidfd(e.running.pidfd);
  }

  /** Exec: registers a process to start later (containerd validated the exec id). */
  async exec(req: ExecProcessRequest): Promise<void> {
    if (this.#execs.has(req.execId)) throw new AlreadyExists(`id ${req.execId}`, { containerId: this.id });
    if (this.#initReaped || this.init.status === 'stopped' || this.init.status === 'deleted') {
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
    const stdio = { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal };
    const proc = new Process('exec', this.id, req.execId, stdio, this.deps.events);
    this.#execs.set(req.execId, { proc, io, spec });
    proc.created(0);
  }

  async #startExec(execId: string): Promise<number> {
    const e = this.#execs.get(execId);
    if (!e) throw new NotFound(`process ${execId} does not exist`, { containerId: this.id });
    return e.proc.start(async () => {
      // After the init's exit no exec may start: its exit would come after the init's.
      if (this.#initReaped) throw new FailedPrecondition(`container ${this.id} init process is not running`, { containerId: this.id });
      if (this.init.status === 'paused' || this.init.status === 'pausing') {
        throw new FailedPrecondition(`cannot exec in a ${this.init.status} container`, { containerId: this.id });
      }
      const handle = await startExec(this.runtime, {
        process: e.spec,
        stdio: e.io.stdio,
        consoleSocketFd: e.io.consoleSocketFd,
        spawner: keeperSpawner(this.deps.link, e.io.id),
      });
      const exit = this.deps.link.exit(handle.pid);
      e.io.started();
      e.running = { pidfd: handle.pidfd, handled: this.#handleExecExit(e, handle.pidfd, exit) };
      return handle.pid;
    });
  }

  async #handleExecExit(e: ExecEntry, pidfd: number, exit: Promise<KeeperExit>): Promise<void> {
    const x = await exit;
    await e.proc.startSettled();
    closePidfd(pidfd);
    this.deps.link.ack(x.pid);
    e.proc.exited(exitCodeOf(x), x.at);
  }

  /** Delete of an exec that has stopped or never started: forgotten, with its result. */
  async deleteExec(execId: string): Promise<ExitInfo> {
    const e = this.#execs.get(execId);
    if (!e) throw new NotFound(`process ${execId} does not exist`, { containerId: this.id });
    e.proc.transition('delete');
    this.#execs.delete(execId);
    await e.io.close();
    return { pid: e.proc.pid, exitStatus: e.proc.exitStatus, exitedAt: e.proc.exitedAt };
  }

  /** New resource limits (runc update --resources semantics); containerd's annotations need nothing of us. */
  async update(resources: Any | undefined): Promise<void> {
    if (this.#initReaped) throw new FailedPrecondition(`cannot update task ${this.id}: it has stopped`, { containerId: this.id });
    update(this.runtime, resourcesSpec(resources));
  }

  async stats(): Promise<Any> {
    // Loaded by the first Stats call: the cgroup metrics' message types are a quarter of a
    // megabyte of heap, held for good, that a server nobody asks for statistics never needs.
    const { metricsOf } = await import('./metrics.js');
    return metricsOf(this.runtime.cgroup());
  }
}

function signal(pidfd: number, sig: number): void {
  try {
    if (pidfd >= 0) pidfdSendSignal(pidfd, sig);
  } catch {
    // already gone
  }
}

function signalOrNotFound(pidfd: number, sig: number): void {
  if (pidfd < 0) throw new NotFound('process already finished');
  try {
    pidfdSendSignal(pidfd, sig);
  } catch (err) {
    if (err instanceof SystemError && err.errno === ESRCH) throw new NotFound('process already finished');
    throw err;
  }
}

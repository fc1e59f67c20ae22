// One container of a group as the task service sees it: its init (a ShimProcess: its
// transition table, the one place its state is kept; its stdio, exit and journal line), its
// execs (execs.ts), its rootfs mount and OOM watch, around the library's container. Made by
// create.ts, or taken over from a journal by restore.ts; how Kill reaches its processes is
// signals.ts's. The runtime's work goes through the library's Runtime; only the statistics
// read the cgroups themselves (metrics.ts), where the library says they are.
import type { Any } from '@bufbuild/protobuf/wkt';
import { constants as os } from 'node:os';
import type { ExecProcessRequest } from '../gen/containerd/task/v2/shim_pb.js';
import type { ProcessInfo } from '../gen/containerd/types/task/task_pb.js';
import { FailedPrecondition, messageOf } from '../errors.js';
import { logger } from '../log.js';
import { Runtime } from '../api/index.js';
import { cgroupManager } from '../cgroups/factory.js';
import type { EventSink } from './events.js';
import { Execs } from './execs.js';
import type { ProcessIO } from './io/process-io.js';
import { containerKey, type ContainerLine, type ProcessLine } from './journal.js';
import type { KeeperExit, KeeperLink } from './keeper/link.js';
import { watchOomKills } from './oom-watch.js';
import type { ShimOptions } from './options.js';
import type { Stdio } from './process.js';
import { processInfos } from './process-info.js';
import { unmountAll } from './rootfs.js';
import { ShimProcess, type ProcessRef } from './shim-process.js';
import { ContainerSignals } from './signals.js';
import { resourcesSpec } from './specs.js';

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

/** The library's runtime on a state root of the shim's, with a container's options. */
export const runtimeOn = (root: string, options: ShimOptions): Runtime => new Runtime({ root, systemdCgroup: options.systemdCgroup });

export class ShimContainer {
  readonly init: ShimProcess;
  readonly execs: Execs;
  readonly #signals: ContainerSignals;
  #stopOomWatch: (() => void) | undefined;

  /** Made by createContainer, or restoreContainer. */
  constructor(
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
    this.execs = new Execs(deps, id, rt, this.init, options);
    this.#signals = new ContainerSignals(rt, id, this.init);
  }

  #lineExtra(): Omit<ContainerLine, keyof ProcessLine> {
    return { id: this.id, bundle: this.bundle, ...(this.mountedRootfs ? { mounted: this.mountedRootfs } : {}), options: this.options };
  }

  /** The init runs as the keeper's child, signalled through ref; its exit follows. */
  watchInit(pid: number, ref: ProcessRef): void {
    this.init.watch(pid, ref, (e) => this.#initExited(e));
  }

  /** The keeper reports the init's exit once its output is drained; it is published after
   *  every exec's. */
  async #initExited(e: KeeperExit): Promise<void> {
    try {
      await this.init.proc.startSettled();
      await this.#signals.initExited();
      await this.execs.settled();
    } catch (err) {
      logger.warn(`after the exit of ${this.id}: ${messageOf(err)}`);
    }
    this.init.exited(e);
  }

  /** The init (execId "") or an exec; NotFound for an unknown exec. */
  process(execId: string): ShimProcess {
    return execId ? this.execs.get(execId) : this.init;
  }

  async start(execId: string): Promise<number> {
    if (execId) return this.execs.start(execId);
    return this.init.proc.start(async () => {
      this.init.pending = 'start';
      try {
        await this.rt.start(this.id);
      } finally {
        this.init.pending = undefined;
      }
      this.watchOom();
      return this.init.pid;
    });
  }

  /** /tasks/oom for each OOM kill in the container's cgroup, from Start until Delete. */
  watchOom(): void {
    this.#stopOomWatch = watchOomKills(this.rt, this.id, this.deps.events);
  }

  /** Exec: registers a process to start later (containerd validated the exec id). */
  exec(req: ExecProcessRequest): Promise<void> {
    return this.execs.add(req);
  }

  async kill(execId: string, sig: number, all: boolean): Promise<void> {
    if (execId) this.execs.kill(execId, sig);
    else await this.#signals.kill(sig, all);
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
    const execs = this.execs.running();
    return processInfos(await this.rt.ps(this.id), execs);
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
    this.execs.forget();
    const p = this.init.proc;
    p.transition('delete');
    return { pid: p.pid, exitStatus: p.exitStatus, exitedAt: p.exitedAt };
  }

  /**
   * containerd lost the shim for this container (`delete` while we live): stop whatever
   * runs, then delete as usual.
   */
  async forceDelete(): Promise<ExitInfo> {
    if (!this.init.reaped && this.init.proc.status !== 'stopped') await this.#signals.stop();
    await this.init.handled;
    return this.delete();
  }

  /** Delete of an exec that has stopped or never started: forgotten, with its result. */
  deleteExec(execId: string): Promise<ExitInfo> {
    return this.execs.delete(execId);
  }

  /** A delete an earlier brain had under way, finished (the container stays stopped for
   *  containerd to delete it again). */
  async finishDelete(): Promise<void> {
    await this.#teardown();
    this.init.pending = undefined;
  }

  async #teardown(): Promise<void> {
    this.#stopOomWatch?.();
    this.#stopOomWatch = undefined;
    try {
      await this.rt.delete(this.id, { force: true });
    } finally {
      await Promise.all([this.init.io.close(), this.execs.closeIO()]);
      if (this.mountedRootfs) unmountAll(this.mountedRootfs);
    }
  }

  /** The group's keeper is gone and containerd cleans up after it (its stdio went with the
   *  keeper, the processes are for its `delete` to stop): we only let go of what we hold. */
  abandon(): void {
    this.#stopOomWatch?.();
    this.#stopOomWatch = undefined;
    this.init.release();
    this.execs.release();
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

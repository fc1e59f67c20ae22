// A container made by Runtime.create or run: its init's stdio or terminal and exit, and the
// runtime's verbs for it. The verbs go through the state on disk as the CLI's do, so the
// handle stays right whatever else (the CLI, another program) does to the container.
import type { Stats } from '../cgroups/stats.js';
import type { Config, ProcessInput, ProcessSpec, ResourcesInput, ResourcesSpec } from '../oci/spec.js';
import type { OciState } from '../oci/state.js';
import type { ContainerState } from '../runtime/state-store.js';
import { parseSignal } from '../runtime/signals.js';
import type { Spawner } from '../runtime/spawner.js';
import { Child } from './child.js';
import type { ContainerEvent, EventsOptions } from './events.js';
import type { ExecProcess } from './process.js';
import type { DeleteOptions, ExecOptions, KillOptions, Runtime, UpdateOptions } from './runtime.js';
import type { StdioStreams } from './stdio.js';
import type { Terminal } from './terminal.js';

export class Container extends Child {
  readonly id: string;
  /** The bundle directory, resolved. */
  readonly bundle: string;

  /** @internal made by Runtime.create */
  constructor(
    readonly runtime: Runtime,
    state: ContainerState,
    pidfd: number | null,
    spawner: Spawner,
    streams: StdioStreams,
    terminal: Terminal | null,
  ) {
    super(state.pid, pidfd, spawner, streams, terminal);
    this.id = state.id;
    this.bundle = state.bundle;
  }

  start(): Promise<void> {
    return this.runtime.start(this.id);
  }

  state(): Promise<OciState> {
    return this.runtime.state(this.id);
  }

  config(): Promise<Config> {
    return this.runtime.config(this.id);
  }

  kill(signal?: NodeJS.Signals | string | number, opts?: KillOptions): Promise<void> {
    return this.runtime.kill(this.id, signal, opts);
  }

  delete(opts?: DeleteOptions): Promise<void> {
    return this.runtime.delete(this.id, opts);
  }

  exec(process: ProcessInput | ProcessSpec, opts?: ExecOptions): Promise<ExecProcess> {
    return this.runtime.exec(this.id, process, opts);
  }

  pause(): Promise<void> {
    return this.runtime.pause(this.id);
  }

  resume(): Promise<void> {
    return this.runtime.resume(this.id);
  }

  update(resources: ResourcesInput | ResourcesSpec, opts?: UpdateOptions): Promise<void> {
    return this.runtime.update(this.id, resources, opts);
  }

  ps(): Promise<number[]> {
    return this.runtime.ps(this.id);
  }

  events(opts?: EventsOptions): AsyncIterableIterator<ContainerEvent> {
    return this.runtime.events(this.id, opts);
  }

  stats(): Promise<Stats> {
    return this.runtime.stats(this.id);
  }

  /**
   * Sends a signal to the init through the handle, without reading the state (what
   * `tsrun run` forwards); false once the init has exited or the handle was let go.
   * kill() is the runtime's verb, which also signals every process with `all`.
   */
  signal(signal: NodeJS.Signals | number): boolean {
    return this.signalSelf(typeof signal === 'number' ? signal : parseSignal(signal));
  }

  /** Lets the container run on without this handle: its pidfd is closed, and wait() no longer reaps it. */
  unref(): void {
    this.release();
  }
}

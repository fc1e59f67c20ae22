// tsrun as a library: the verbs of the CLI as methods, in-process, on the state the CLI
// keeps (the same layout under the same root), so that each sees the other's containers.
// Every failure is one of src/errors.ts's classes, which the package exports.
import { closeSync } from 'node:fs';
import type { Stats } from '../cgroups/stats.js';
import { FailedPrecondition, Internal, InvalidArgument } from '../errors.js';
import { waitExit } from '../native/index.js';
import type { Config, ProcessInput, ProcessSpec, ResourcesInput, ResourcesSpec } from '../oci/spec.js';
import type { OciState } from '../oci/state.js';
import { processFromJson } from '../oci/validate.js';
import { loadBundle } from '../runtime/bundle.js';
import { Container as Stored } from '../runtime/container.js';
import { createInit } from '../runtime/create.js';
import { deleteContainer } from '../runtime/delete.js';
import { statsEvent } from '../runtime/events.js';
import { startExec } from '../runtime/exec.js';
import { kill } from '../runtime/kill.js';
import { listContainers } from '../runtime/list.js';
import { pause, resume } from '../runtime/pause.js';
import { containerPids } from '../runtime/ps.js';
import { defaultStateRoot, parseRootlessFlag, prepareDefaultRoot } from '../runtime/rootless.js';
import { parseSignal } from '../runtime/signals.js';
import type { Spawner } from '../runtime/spawner.js';
import { invocation } from '../runtime/invocation.js';
import { start } from '../runtime/start.js';
import { StateStore } from '../runtime/state-store.js';
import { update } from '../runtime/update.js';
import { exitOf, type Exit } from './child.js';
import type { CgroupPaths } from '../cgroups/manager.js';
import { Container } from './container.js';
import { events, type ContainerEvent, type EventsOptions } from './events.js';
import { ExecProcess } from './process.js';
import { asJson, resourcesFromJson } from './input.js';
import { Stdio, type StdioOption } from './stdio.js';
import { ConsoleReceiver } from './terminal.js';

export interface RuntimeOptions {
  /**
   * Where container state is kept: the CLI's --root. By default the CLI's default,
   * /run/tsrun, or $XDG_RUNTIME_DIR/tsrun for an unprivileged caller.
   */
  root?: string;
  /** The systemd cgroup driver (the CLI's --systemd-cgroup): cgroupsPath is "slice:prefix:name". */
  systemdCgroup?: boolean;
  /** Cgroups the caller may not make are gone without (the CLI's --rootless, whose words it takes too); 'auto' by default. */
  rootless?: boolean | 'auto' | 'true' | 'false';
  /** Who starts tsrun-init and is the parent of container processes: this program by default. */
  spawner?: Spawner;
}

/** What create and exec take besides the process's own options: who makes the process, and where its terminal goes. */
export interface SpawnOptions {
  /**
   * Who starts tsrun-init for this one call and is the parent of the process it makes
   * (the Runtime's spawner by default): a subreaper of the caller's, say, that holds the
   * container's processes when this program may go. The handle's wait() asks it how the
   * process ended; a claim of -1 (the process has exited already) makes create fail.
   */
  spawner?: Spawner;
  /**
   * When process.terminal is true: a connected unix socket, an fd of this program, that
   * tsrun-init sends the pty master to (consoleSocket's, without a path to connect to).
   * It stays the caller's to close.
   */
  consoleSocketFd?: number;
}

/** What create and run take; the options past stdio are runc's flags of the same names. */
export interface CreateOptions extends SpawnOptions {
  /** The bundle directory: config.json and, as it says, the rootfs. */
  bundle: string;
  /** The container's stdin, stdout and stderr: 'pipe' (the default), 'inherit', 'ignore', or per slot (an fd of this program too). */
  stdio?: StdioOption;
  /** When process.terminal is true: a unix socket to hand the pty master to, instead of `container.terminal`. */
  consoleSocket?: string;
  /** When process.terminal is true and no consoleSocket is given, this program takes the master (the default); false refuses, as runc's create. */
  ownTerminal?: boolean;
  /** A file to write the init's pid to. */
  pidFile?: string;
  /** Hands this program's fds 3 .. 3+n-1 to the container as the same numbers. */
  preserveFds?: number;
  noPivot?: boolean;
  noNewKeyring?: boolean;
}

export interface ExecOptions extends SpawnOptions {
  stdio?: StdioOption;
  consoleSocket?: string;
  ownTerminal?: boolean;
  pidFile?: string;
  preserveFds?: number;
  /** Exec into a paused container too. */
  ignorePaused?: boolean;
  /** Existing sub-cgroups of the container's to run the process in, as runc's exec --cgroup: "[<controller>[,...]:]<path>". */
  subCgroups?: readonly string[];
  /** How an invalid process is named in errors: "process" by default. */
  field?: string;
}

export interface KillOptions {
  /** Every process of the container, not only its init. */
  all?: boolean;
}

export interface DeleteOptions {
  /** Kills a running container first, and succeeds when there is none. */
  force?: boolean;
  /** Where poststop hooks run: the bundle by default (`tsrun delete` gives its own cwd, as runc's). */
  hooksCwd?: string;
}

export interface UpdateOptions {
  /** How the resources are named in errors: "resources" by default. */
  field?: string;
}

export class Runtime {
  readonly root: string;
  readonly #defaultRoot: boolean;
  #rootReady = false;
  readonly #systemdCgroup: boolean;
  readonly #rootless: boolean | undefined;
  readonly #spawner: Spawner | undefined;
  /** The handles this runtime made, so that a wait by id joins the handle's. */
  readonly #handles = new Map<string, WeakRef<Container>>();

  constructor(opts: RuntimeOptions = {}) {
    this.#defaultRoot = opts.root === undefined;
    this.root = opts.root ?? defaultStateRoot();
    this.#systemdCgroup = opts.systemdCgroup ?? false;
    const rootless = opts.rootless ?? 'auto';
    this.#rootless = typeof rootless === 'boolean' ? rootless : parseRootlessFlag(rootless);
    this.#spawner = opts.spawner;
  }

  #store(): StateStore {
    // The default root of an unprivileged caller is made on first use, or refused with the reason.
    if (this.#defaultRoot && !this.#rootReady) prepareDefaultRoot();
    this.#rootReady = true;
    return new StateStore(this.root);
  }

  #load(id: string): Stored {
    return Stored.load(this.#store(), id);
  }

  /** Creates a container whose init waits for start. */
  async create(id: string, opts: CreateOptions): Promise<Container> {
    if (typeof opts?.bundle !== 'string') throw InvalidArgument.at('bundle', 'a bundle directory is needed');
    const loaded = loadBundle(opts.bundle);
    const terminal = loaded.config.process?.terminal ?? false;
    const receiver = this.#receiver(terminal, opts);
    const spawner = this.#spawnerFor(opts);
    let stdio: Stdio | undefined;
    let created;
    try {
      stdio = Stdio.open(opts.stdio, 'stdio', !terminal);
      created = await createInit(this.#store(), {
        id,
        bundle: opts.bundle,
        loaded,
        stdio: stdio.fds,
        consoleSocket: opts.consoleSocket,
        consoleSocketFd: receiver?.fd ?? opts.consoleSocketFd,
        pidFile: opts.pidFile,
        preserveFds: opts.preserveFds,
        noPivot: opts.noPivot,
        noNewKeyring: opts.noNewKeyring,
        systemdCgroup: this.#systemdCgroup,
        rootless: this.#rootless,
        spawner,
      });
    } catch (err) {
      stdio?.close();
      receiver?.close();
      throw err;
    }
    const { container: stored, pidfd } = created;
    if (pidfd < 0) {
      // The spawner saw it go before anyone could hold it: its exit is collected, and the container goes.
      await spawner.exit(stored.state.pid, pidfd).catch(() => undefined);
      stdio.close();
      receiver?.close();
      await this.delete(id, { force: true });
      throw new FailedPrecondition('container init exited before start', { containerId: id });
    }
    const container = new Container(this, stored.state, pidfd, spawner, stdio.handedOver(), receiver?.receive() ?? null);
    this.#handles.set(id, new WeakRef(container));
    return container;
  }

  /** The terminal's receiver, when this program takes the pty master. */
  #receiver(terminal: boolean, opts: CreateOptions | ExecOptions): ConsoleReceiver | undefined {
    const elsewhere = Boolean(opts.consoleSocket) || opts.consoleSocketFd !== undefined;
    return terminal && !elsewhere && (opts.ownTerminal ?? true) ? new ConsoleReceiver() : undefined;
  }

  #spawnerFor(opts: SpawnOptions): Spawner {
    // the caller's when the CLI server runs a call for it
    return opts.spawner ?? this.#spawner ?? invocation().spawner;
  }

  /** Lets a created container's program run. */
  async start(id: string): Promise<void> {
    await start(this.#load(id));
  }

  /** create, then start: a container whose start fails is deleted. */
  async run(id: string, opts: CreateOptions): Promise<Container> {
    const container = await this.create(id, opts);
    try {
      await this.start(id);
    } catch (err) {
      await this.delete(id, { force: true }).catch(() => undefined);
      throw err;
    }
    return container;
  }

  /** The OCI state, as `tsrun state` prints it (runc's: `owner` is empty; list() has it). */
  async state(id: string): Promise<OciState> {
    return this.#load(id).ociState(false);
  }

  /** The config.json the container was created from (as it was then). */
  async config(id: string): Promise<Config> {
    return this.#load(id).config();
  }

  /** Every container under the root, oldest first. */
  async list(): Promise<OciState[]> {
    return listContainers(this.#store()).map((c) => c.ociState());
  }

  /** A signal (name, "KILL" or "SIGKILL", or number; SIGTERM by default) to the init, or to every process. */
  async kill(id: string, signal: NodeJS.Signals | string | number = 'SIGTERM', opts: KillOptions = {}): Promise<void> {
    const number = typeof signal === 'number' ? parseSignal(String(signal)) : parseSignal(signal);
    await kill(this.#load(id), number, opts.all ?? false);
  }

  /** Removes a stopped or created container (with force, any) and everything it holds. */
  async delete(id: string, opts: DeleteOptions = {}): Promise<void> {
    await deleteContainer(this.#store(), id, opts.force ?? false, opts.hooksCwd);
    this.#handles.delete(id);
  }

  /**
   * Runs a process in the container. `process` is an OCI process (config.json's
   * `process`, `args` and `cwd` at least); it replaces the container's own, so take
   * what you want of that from `config(id)`.
   */
  async exec(id: string, process: ProcessInput | ProcessSpec, opts: ExecOptions = {}): Promise<ExecProcess> {
    const container = this.#load(id);
    const parsed = processFromJson(asJson(process));
    if (!parsed.ok) {
      const [i] = parsed.issues;
      if (opts.field) throw new InvalidArgument(`${opts.field}: ${i?.field}: ${i?.message}`, { field: opts.field });
      throw InvalidArgument.at(`process.${i?.field}`, i?.message ?? 'invalid');
    }
    const proc = parsed.process;
    const receiver = this.#receiver(proc.terminal ?? false, opts);
    const spawner = this.#spawnerFor(opts);
    let stdio: Stdio | undefined;
    let handle;
    try {
      stdio = Stdio.open(opts.stdio, 'stdio', !proc.terminal);
      handle = await startExec(container, {
        process: proc,
        pidFile: opts.pidFile,
        consoleSocket: opts.consoleSocket,
        consoleSocketFd: receiver?.fd ?? opts.consoleSocketFd,
        preserveFds: opts.preserveFds,
        stdio: stdio.fds,
        ignorePaused: opts.ignorePaused,
        subCgroups: opts.subCgroups,
        spawner,
      });
    } catch (err) {
      stdio?.close();
      receiver?.close();
      throw err;
    }
    return new ExecProcess(handle.pid, handle.pidfd, spawner, stdio.handedOver(), receiver?.receive() ?? null);
  }

  /** Freezes every process of the container. */
  async pause(id: string): Promise<void> {
    await pause(this.#load(id));
  }

  async resume(id: string): Promise<void> {
    await resume(this.#load(id));
  }

  /** New limits (OCI LinuxResources), merged into those in force as runc's update merges them. */
  async update(id: string, resources: ResourcesInput | ResourcesSpec, opts: UpdateOptions = {}): Promise<void> {
    const container = this.#load(id);
    update(container, resourcesFromJson(resources, opts.field ?? 'resources'));
  }

  /** The pids of the container's processes, in this program's pid namespace. */
  async ps(id: string): Promise<number[]> {
    return containerPids(this.#load(id));
  }

  /** Its statistics every interval and its OOM kills, until its cgroups are gone or the loop ends. */
  events(id: string, opts: EventsOptions = {}): AsyncIterableIterator<ContainerEvent> {
    return events(() => this.#load(id), opts);
  }

  /** Its statistics now, as runc's `events --stats` reports them. */
  async stats(id: string): Promise<Stats> {
    const e = statsEvent(this.#load(id));
    if (e.type !== 'stats') throw new Internal('a stats collection gave no statistics');
    return e.stats;
  }

  /**
   * Where the container's cgroups are (libcontainer's State.CgroupPaths): each v1
   * hierarchy's directory by its controllers, the unified tree's, the systemd unit; for a
   * program that reads or watches what the verbs do not (containerd's metrics, say).
   */
  async cgroups(id: string): Promise<CgroupPaths> {
    return this.#load(id).state.cgroupPaths;
  }

  /** Resolves once the container's init has exited (at once when it has). */
  async wait(id: string): Promise<Exit> {
    const handle = this.#handles.get(id)?.deref();
    if (handle) return handle.wait();
    const pidfd = this.#load(id).openInit(true);
    if (pidfd === null) return { exitCode: null };
    try {
      return exitOf(await waitExit(pidfd));
    } finally {
      closeSync(pidfd);
    }
  }
}

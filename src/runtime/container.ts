// A container as the runtime sees it: its stored state plus what the kernel says now.
// Status is derived, never stored: the init pid (checked against its start time, so a
// reused pid is not mistaken for it), the exec fifo, and the freezer.
import { closeSync, existsSync } from 'node:fs';
import { constants as os } from 'node:os';
import { cgroupManager } from '../cgroups/factory.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { FailedPrecondition, Internal, SystemError } from '../errors.js';
import { schemas, type Config } from '../oci/spec.js';
import { pidfdOpen, pidfdSendSignal } from '../native/index.js';
import { OCI_VERSION } from '../oci/defaults.js';
import type { OciState, Status } from '../oci/state.js';
import type { HookKind, HookState } from './hooks.js';
import { isAlive, isSameProcess } from './proc.js';
import type { ContainerState, StateStore } from './state-store.js';

export class Container {
  constructor(
    readonly store: StateStore,
    readonly state: ContainerState,
  ) {}

  static load(store: StateStore, id: string): Container {
    return new Container(store, store.load(id));
  }

  get id(): string {
    return this.state.id;
  }

  get fifoPath(): string {
    return this.store.fifoPath(this.id);
  }

  /** The config.json the container was created from. */
  config(): Config {
    const parsed = schemas().Config.safeParse(this.state.config);
    if (!parsed.success) throw new Internal(`stored config of ${this.id} no longer parses: ${parsed.error.message}`);
    return parsed.data;
  }

  /** Whether the stored config has hooks of this kind: judging all of it costs a CLI ms. */
  hasHooks(kind: HookKind): boolean {
    const hooks = (this.state.config as { hooks?: Record<string, unknown> } | null | undefined)?.hooks?.[kind];
    return Array.isArray(hooks) && hooks.length > 0;
  }

  cgroup(): CgroupManager {
    return cgroupManager(this.state.cgroupPaths);
  }

  initAlive(): boolean {
    return this.state.pid > 0 && isAlive(this.state.pid, this.state.pidStartTime);
  }

  status(): Status {
    if (!this.initAlive()) return 'stopped';
    // As runc: a frozen container is paused, whether or not it was started.
    if (this.cgroup().isFrozen()) return 'paused';
    if (existsSync(this.fifoPath)) return 'created';
    return 'running';
  }

  /**
   * A pidfd for the init, or null when it is gone. The start time is checked after the
   * pidfd pins the process, so the fd cannot name a newer process that got the pid.
   * With exited, an init that has exited and is not yet reaped counts too (to wait on it).
   */
  openInit(exited = false): number | null {
    if (this.state.pid <= 0) return null;
    let fd: number;
    try {
      fd = pidfdOpen(this.state.pid);
    } catch (err) {
      if (err instanceof SystemError && err.errno === os.errno.ESRCH) return null;
      throw err;
    }
    if (!(exited ? isSameProcess(this.state.pid, this.state.pidStartTime) : isAlive(this.state.pid, this.state.pidStartTime))) {
      closeSync(fd);
      return null;
    }
    return fd;
  }

  signalInit(signal: number): void {
    const fd = this.openInit();
    if (fd === null) throw new FailedPrecondition('container not running', { containerId: this.id });
    try {
      pidfdSendSignal(fd, signal);
    } catch (err) {
      if (err instanceof SystemError && err.errno === os.errno.ESRCH) {
        throw new FailedPrecondition('container not running', { containerId: this.id });
      }
      throw err;
    } finally {
      closeSync(fd);
    }
  }

  /** What hooks get on stdin. */
  hookState(status: Status): HookState {
    const s = this.state;
    return { id: s.id, status, pid: s.pid, bundle: s.bundle, annotations: s.annotations };
  }

  /** The OCI state with runc's extra fields. runc's `state` leaves the owner empty (it
   *  fills it in for `list` only), so `withOwner` is false there. */
  ociState(withOwner = true): OciState {
    const status = this.status();
    const s = this.state;
    const out: OciState = {
      ociVersion: OCI_VERSION,
      id: s.id,
      pid: status === 'stopped' ? 0 : s.pid,
      status,
      bundle: s.bundle,
      rootfs: s.rootfs,
      created: s.created,
      owner: withOwner ? s.owner : '',
    };
    if (Object.keys(s.annotations).length) {
      // runc's order puts annotations before owner
      const { owner, ...rest } = out;
      return { ...rest, annotations: s.annotations, owner };
    }
    return out;
  }
}

// The systemd driver (--systemd-cgroup), as runc 1.1's: the container's cgroup is a transient
// unit that systemd makes around the first task (StartTransientUnit, delegated), its limits
// are unit properties (SetUnitProperties), and then the cgroup files are written as the
// cgroupfs driver writes them, for whatever systemd has no property for and for the
// hierarchies systemd does not manage (cpuset, freezer... on v1). Reading the cgroup (stats,
// pids, freezer, OOM) is the cgroupfs driver's work on the same directories.
//
// The D-Bus connection lives for one operation: a shim that kept one open would be sent
// every job signal of the host (systemd broadcasts them on its private socket) until its
// next operation read them.
import { readFileSync } from 'node:fs';
import { Internal } from '../../errors.js';
import type { CgroupManager, CgroupPaths, CgroupSpec, SelfJoin } from '../manager.js';
import type { Resources } from '../resources.js';
import type { Stats } from '../stats.js';
import { SystemdConnection } from './connection.js';
import { deviceProperties, resourceProperties, startProperties, type ResourceContext } from './properties.js';

export class SystemdManager implements CgroupManager {
  private version?: number;
  /** what create() was given, until the first process lets the unit be made */
  private pending?: { spec: CgroupSpec; devices: ReturnType<typeof deviceProperties> };

  constructor(
    readonly paths: CgroupPaths,
    /** the cgroupfs driver over the same directories */
    private readonly fs: CgroupManager,
    private readonly connect: () => SystemdConnection = () => new SystemdConnection(),
  ) {}

  private get unit(): NonNullable<CgroupPaths['systemd']> {
    const u = this.paths.systemd;
    if (!u) throw new Internal('the systemd driver was given cgroup paths without a unit');
    return u;
  }

  private get v2(): boolean {
    return Object.keys(this.paths.v1).length === 0;
  }

  private withBus<T>(fn: (c: SystemdConnection) => T): T {
    const c = this.connect();
    try {
      return fn(c);
    } finally {
      c.close();
    }
  }

  private context(c: SystemdConnection): ResourceContext {
    return {
      v2: this.v2,
      version: () => (this.version ??= versionNumber(String(c.managerProperty('Version')))),
    };
  }

  /** Checks what systemd will be asked; the unit is made by the first addProcess. */
  create(spec: CgroupSpec): void {
    const devices = deviceProperties(spec.devices, () => readFileSync('/proc/devices', 'utf8'));
    // Worked out now: a value systemd cannot take fails before anything is made.
    resourceProperties(spec.resources ?? {}, { v2: this.v2, version: () => Number.MAX_SAFE_INTEGER });
    this.pending = { spec, devices };
  }

  /** systemd moves the first process itself (the unit is made around it): by pid. */
  selfJoin(): SelfJoin {
    return { tasks: [] };
  }

  addProcess(pid: number): void {
    const pending = this.pending;
    if (!pending) {
      this.fs.addProcess(pid);
      return;
    }
    this.pending = undefined;
    const u = this.unit;
    this.withBus((c) => {
      c.startTransientUnit(u.unit, startProperties({ unit: u.unit, slice: u.slice, name: u.name, pid, v2: this.v2 }));
      c.setUnitProperties(u.unit, [...pending.devices.props, ...resourceProperties(pending.spec.resources ?? {}, this.context(c))]);
    });
    // On v1 systemd wrote the device rules to the files itself; written again they would only
    // come out in another order. Rules it could not take, and v2's eBPF program (which runc
    // attaches besides systemd's), are the cgroupfs driver's.
    const spec = pending.devices.exact && !this.v2 ? { ...pending.spec, devices: [] } : pending.spec;
    this.fs.create(spec);
    this.fs.addProcess(pid);
  }

  set(resources: Resources): void {
    const u = this.unit;
    // Devices are not part of an update: the unit keeps the rules it was made with, so no
    // transient deny-all happens and the container need not be frozen around it.
    this.withBus((c) => c.setUnitProperties(u.unit, resourceProperties(resources, this.context(c))));
    this.fs.set(resources);
  }

  procs(): number[] {
    return this.fs.procs();
  }

  exists(): boolean {
    return this.fs.exists();
  }

  freeze(): Promise<void> {
    return this.fs.freeze();
  }

  thaw(): Promise<void> {
    return this.fs.thaw();
  }

  isFrozen(): boolean {
    return this.fs.isFrozen();
  }

  canFreeze(): boolean {
    return this.fs.canFreeze();
  }

  killAll(): boolean {
    return this.fs.killAll();
  }

  stats(): Stats {
    return this.fs.stats();
  }

  watchOom(onOom: () => void, onEnd: () => void): () => void {
    return this.fs.watchOom(onOom, onEnd);
  }

  /** Stops the unit (systemd removes what it made), then the directories made by hand. */
  async destroy(): Promise<void> {
    const u = this.unit;
    this.withBus((c) => {
      c.stopUnit(u.unit);
      // A unit whose processes were killed may stay "failed": let systemd forget it.
      c.resetFailedUnit(u.unit);
    });
    await this.fs.destroy();
  }
}

/** "252.39-1~deb12u2", "v245.4-1.fc32" -> 252, 245 (runc's systemdVersionAtoi). */
export function versionNumber(text: string): number {
  const m = /^"?v?(\d+)/.exec(text);
  return m ? Number(m[1]) : -1;
}

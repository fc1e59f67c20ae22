// The one cgroup manager interface over v1 (with hybrid's controller-less v2 tree) and
// unified v2, and the shapes it is given. Types only: the drivers import this file and the
// factory imports the drivers, so nothing here may import a driver.
import type { Resources } from './resources.js';
import type { Stats } from './stats.js';

export interface CgroupPaths {
  /** v1 hierarchy (its controllers joined with ",") -> the container's directory */
  v1: Record<string, string>;
  /** the container's directory in the unified tree (hybrid or v2) */
  unified?: string;
  /** where the unified tree is mounted: controllers are enabled from here down (v2) */
  unifiedMount?: string;
  /** --systemd-cgroup: the transient unit systemd makes for the container */
  systemd?: {
    unit: string;
    slice: string;
    /** the name part of cgroupsPath (the unit's Description names it) */
    name: string;
  };
  /**
   * Hierarchies (v1 keys; "" for the unified tree) a rootless create was denied and went
   * on without, as runc does: a resource asked of one of them is refused, not ignored.
   */
  unjoined?: string[];
}

/**
 * What a process the runtime starts can do to be in its cgroups from the start, so that it
 * is not moved by pid: such a move takes the kernel's global cgroup lock, which waits for an
 * RCU grace period (6-15 ms on an idle host, more under load). A thread that moves itself
 * (0 written to a v1 `tasks` file) skips that lock, and so does a clone into a v2 directory
 * (CLONE_INTO_CGROUP); addProcess then joins only the rest.
 */
export interface SelfJoin {
  /** v1 `tasks` files (of directories that exist) the process writes 0 to itself */
  tasks: string[];
  /** the v2 directory (or hybrid's unified one) it can be cloned into */
  dir?: string;
}

/** A device rule as the cgroup sees it: "c 1:3 rwm" style, plus allow or deny. */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number | '*';
  minor: number | '*';
  access: string;
}

export interface CgroupSpec {
  resources?: Resources;
  /** in order, as devices.allow and devices.deny would take them */
  devices: DeviceRule[];
  /** runc's rootless cgroups: device rules are applied where the caller may, else skipped */
  rootless?: boolean;
}

export interface CgroupManager {
  readonly paths: CgroupPaths;
  /**
   * Creates the directories and applies devices and resources: everything that must be in
   * place before the first task joins. A resource this host cannot apply fails before any
   * directory is made. The systemd driver's unit can only be made around a process: its
   * create checks the spec, and the first addProcess after it makes the unit.
   */
  create(spec: CgroupSpec): void;
  /** Applies resources to existing cgroups (update); devices are left as they are. */
  set(resources: Resources): void;
  /** What a new process can join by itself (nothing, for drivers that must see the pid). */
  selfJoin(): SelfJoin;
  /** Moves pid into the cgroups, but for what it joined by itself (selfJoin). */
  addProcess(pid: number, joined?: SelfJoin): void;
  /** Every pid in the container's cgroups and their sub-cgroups. */
  procs(): number[];
  exists(): boolean;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** False where there is no freezer to use (v1 without it, or no cgroup at all). */
  canFreeze(): boolean;
  isFrozen(): boolean;
  /** SIGKILL to every process in one step where the kernel can (cgroup.kill); false where it cannot. */
  killAll(): boolean;
  stats(): Stats;
  /** Calls onOom for each OOM kill, onEnd once the cgroup is gone; returns a stop function. */
  watchOom(onOom: () => void, onEnd: () => void): () => void;
  /** Removes the container's directories (not their parents); tasks must be gone. */
  destroy(): Promise<void>;
}

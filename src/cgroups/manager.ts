// One cgroup manager interface over v1 (with hybrid's controller-less v2 tree) and
// unified v2. Where a container's cgroups are is decided once, at create, and stored with
// the container, so later verbs never recompute it from a changed environment.
import path from 'node:path';
import { hostLayout, ownCgroups, type CgroupLayout } from './detect.js';
import type { Resources } from './resources.js';
import type { Stats } from './stats.js';
import { V1Manager } from './v1/manager.js';
import { V2Manager } from './v2/manager.js';

export interface CgroupPaths {
  /** v1 hierarchy (its controllers joined with ",") -> the container's directory */
  v1: Record<string, string>;
  /** the container's directory in the unified tree (hybrid or v2) */
  unified?: string;
  /** where the unified tree is mounted: controllers are enabled from here down (v2) */
  unifiedMount?: string;
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
}

export interface CgroupManager {
  readonly paths: CgroupPaths;
  /**
   * Creates the directories and applies devices and resources: everything that must be in
   * place before the first task joins. A resource this host cannot apply fails before any
   * directory is made.
   */
  create(spec: CgroupSpec): void;
  /** Applies resources to existing cgroups (update); devices are left as they are. */
  set(resources: Resources): void;
  addProcess(pid: number): void;
  /** Every pid in the container's cgroups and their sub-cgroups. */
  procs(): number[];
  exists(): boolean;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  isFrozen(): boolean;
  /** SIGKILL to every process in one step where the kernel can (cgroup.kill); false where it cannot. */
  killAll(): boolean;
  stats(): Stats;
  /** Calls onOom for each OOM kill, onEnd once the cgroup is gone; returns a stop function. */
  watchOom(onOom: () => void, onEnd: () => void): () => void;
  /** Removes the container's directories (not their parents); tasks must be gone. */
  destroy(): Promise<void>;
}

export function cleanJoin(...parts: string[]): string {
  const joined = parts.join('/').split('/').filter((p) => p && p !== '.');
  const out: string[] = [];
  // ".." never climbs above the root, as Go's filepath.Clean on an absolute path.
  for (const p of joined) {
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

/**
 * Where the container's cgroups go. As runc's cgroupfs driver: an absolute cgroupsPath is
 * taken from each hierarchy's root; a relative one (and the default, the container id)
 * from the runtime's own cgroup in that hierarchy, or on a pure v2 host from the parent of
 * the runtime's own cgroup (a cgroup with tasks in it cannot enable controllers for a child).
 */
export function cgroupPaths(
  cgroupsPath: string | undefined,
  id: string,
  layout: CgroupLayout = hostLayout(),
  ownPaths: () => Map<string, string> = ownCgroups,
): CgroupPaths {
  const inner = cgroupsPath && cgroupsPath !== '' ? cgroupsPath : id;
  const own = inner.startsWith('/') ? undefined : ownPaths();
  const place = (mountpoint: string, root: string, key: string): string => {
    let base = own ? (own.get(key) ?? '/') : '/';
    if (own && layout.mode === 'v2') base = path.posix.dirname(base);
    const full = cleanJoin(base, inner);
    // Inside a cgroup namespace the mount shows the hierarchy from `root` down.
    const rel = root !== '/' && full.startsWith(root) ? full.slice(root.length) : full;
    return cleanJoin(mountpoint, rel);
  };
  const paths: CgroupPaths = { v1: {} };
  for (const h of layout.v1) {
    const key = h.controllers.join(',');
    paths.v1[key] = place(h.mountpoint, h.root, key);
  }
  if (layout.unified) {
    paths.unified = place(layout.unified.mountpoint, layout.unified.root, '');
    paths.unifiedMount = layout.unified.mountpoint;
  }
  return paths;
}

export function cgroupManager(paths: CgroupPaths): CgroupManager {
  return Object.keys(paths.v1).length > 0 ? new V1Manager(paths) : new V2Manager(paths);
}

/**
 * runc's rules that every container gets after its own (specconv's AllowedDevices): mknod
 * of anything, the default device nodes still in place (a config device of the same path
 * drops its rule, as in runc), ptys, /dev/ptmx and /dev/net/tun.
 */
export function defaultDeviceRules(defaultNodes: ReadonlyArray<{ major: number; minor: number }>): DeviceRule[] {
  return [
    { allow: true, type: 'c', major: '*', minor: '*', access: 'm' },
    { allow: true, type: 'b', major: '*', minor: '*', access: 'm' },
    ...defaultNodes.map((d): DeviceRule => ({ allow: true, type: 'c', major: d.major, minor: d.minor, access: 'rwm' })),
    { allow: true, type: 'c', major: 136, minor: '*', access: 'rwm' },
    { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
  ];
}

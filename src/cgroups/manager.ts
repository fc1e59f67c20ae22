// One cgroup manager interface over v1 (with hybrid's controller-less v2 tree) and
// unified v2. Where a container's cgroups are is decided once, at create, and stored with
// the container, so later verbs never recompute it from a changed environment.
import { hostLayout, ownCgroups, type CgroupLayout } from './detect.js';
import { V1Manager } from './v1/manager.js';
import { V2Manager } from './v2/manager.js';

export interface CgroupPaths {
  /** v1 hierarchy (its controllers joined with ",") -> the container's directory */
  v1: Record<string, string>;
  /** the container's directory in the unified tree (hybrid or v2) */
  unified?: string;
}

/** A device rule as the cgroup sees it: "c 1:3 rwm" style, plus allow or deny. */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number | '*';
  minor: number | '*';
  access: string;
}

export interface CgroupManager {
  readonly paths: CgroupPaths;
  /** Creates the directories and applies what must be in place before any task joins. */
  create(devices: DeviceRule[]): void;
  addProcess(pid: number): void;
  /** Every pid in the container's cgroups. */
  procs(): number[];
  exists(): boolean;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** Removes the container's directories (not their parents); tasks must be gone. */
  destroy(): Promise<void>;
}

function cleanJoin(...parts: string[]): string {
  const joined = parts.join('/').split('/').filter((p) => p && p !== '.');
  return '/' + joined.join('/');
}

/**
 * Where the container's cgroups go. As runc's cgroupfs driver: an absolute cgroupsPath is
 * taken from each hierarchy's root, a relative one (and the default, the container id)
 * from the runtime's own cgroup in that hierarchy.
 */
export function cgroupPaths(cgroupsPath: string | undefined, id: string, layout: CgroupLayout = hostLayout()): CgroupPaths {
  const inner = cgroupsPath && cgroupsPath !== '' ? cgroupsPath : id;
  const own = inner.startsWith('/') ? undefined : ownCgroups();
  const place = (mountpoint: string, root: string, key: string): string => {
    const base = own ? (own.get(key) ?? '/') : '/';
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
  if (layout.unified) paths.unified = place(layout.unified.mountpoint, layout.unified.root, '');
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

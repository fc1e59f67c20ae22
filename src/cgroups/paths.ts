// Where a container's cgroups are. Decided once, at create, and stored with the container,
// so later verbs never recompute it from a changed environment.
import path from 'node:path';
import { hostLayout, ownCgroups, type CgroupLayout } from './detect.js';
import type { CgroupPaths } from './manager.js';

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
  return placed(layout, (key) => {
    let base = own ? (own.get(key) ?? '/') : '/';
    if (own && layout.mode === 'v2') base = path.posix.dirname(base);
    return cleanJoin(base, inner);
  });
}

/**
 * The runtime's own cgroups, where a container stays that a rootless create left without
 * cgroups of its own (containerd's runc shim reports those as its metrics).
 */
export function ownCgroupPaths(layout: CgroupLayout = hostLayout(), ownPaths: () => Map<string, string> = ownCgroups): CgroupPaths {
  const own = ownPaths();
  return placed(layout, (key) => cleanJoin(own.get(key) ?? '/'));
}

/** Each hierarchy's directory for a cgroup path (`fullPath` of the hierarchy's key). */
export function placed(layout: CgroupLayout, fullPath: (key: string) => string): CgroupPaths {
  const place = (mountpoint: string, root: string, key: string): string => {
    const full = fullPath(key);
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

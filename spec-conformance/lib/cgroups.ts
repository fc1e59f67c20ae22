// A container's cgroups as the host sees them: from /proc/<pid>/cgroup of its process and
// the hierarchies mounted here. Independent of how the runtime names or creates them.
import { readdirSync, readFileSync, rmdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Host } from './host.js';

/**
 * Every cgroup the suite makes or asks for lives under this parent, in every hierarchy; in
 * rootless mode under the user's delegated subtree of it (lib/rootless.ts).
 */
export const TEST_PARENT = process.env.CONFORMANCE_USER ? `tsrun-test/${process.env.CONFORMANCE_USER}` : 'tsrun-test';

/** True for a directory that is a test parent (of some runtime's own cgroup, say). */
export function isTestParent(dir: string): boolean {
  return dir.endsWith(`/${TEST_PARENT}`);
}

export interface ProcCgroup {
  /** v1: controllers of the hierarchy; v2: [] */
  controllers: string[];
  /** path relative to the hierarchy's root */
  path: string;
  version: 1 | 2;
}

export function procCgroups(pid: number): ProcCgroup[] {
  const out: ProcCgroup[] = [];
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    if (!line) continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    const hid = line.slice(0, first);
    const ctrls = line.slice(first + 1, second);
    const p = line.slice(second + 1);
    out.push({ controllers: ctrls ? ctrls.split(',') : [], path: p, version: hid === '0' && !ctrls ? 2 : 1 });
  }
  return out;
}

/** The directory of a process's cgroup for one controller (or the v2 tree for ""). */
export function cgroupDir(host: Host, pid: number, controller: string): string | undefined {
  const entries = procCgroups(pid);
  if (controller === '') {
    const v2 = host.hierarchies.find((h) => h.version === 2);
    const e = entries.find((x) => x.version === 2);
    return v2 && e ? path.join(v2.mountpoint, e.path) : undefined;
  }
  const v1 = host.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller));
  if (v1) {
    const e = entries.find((x) => x.version === 1 && x.controllers.includes(controller));
    return e ? path.join(v1.mountpoint, e.path) : undefined;
  }
  const root = host.controllerRoot(controller);
  const e = entries.find((x) => x.version === 2);
  return root && e ? path.join(root.mountpoint, e.path) : undefined;
}

/** All cgroup directories of a process, one per hierarchy mounted here. */
export function allCgroupDirs(host: Host, pid: number): string[] {
  const dirs: string[] = [];
  for (const e of procCgroups(pid)) {
    const h =
      e.version === 2
        ? host.hierarchies.find((x) => x.version === 2)
        : host.hierarchies.find((x) => x.version === 1 && e.controllers.every((c) => x.controllers.includes(c)) && e.controllers.length > 0);
    if (h) dirs.push(path.join(h.mountpoint, e.path));
  }
  return dirs;
}

export function readCgroupFile(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8').trim();
}

/** Directories named `leaf` under the test parent in every hierarchy (after an absolute cgroupsPath). */
export function testCgroupDirs(host: Host, leaf: string): string[] {
  return host.hierarchies.map((h) => path.join(h.mountpoint, TEST_PARENT, leaf));
}

/** Removes cgroup directories left behind, deepest first; only ever under the test parent. */
export function removeCgroupDirs(dirs: string[]): string[] {
  const removed: string[] = [];
  const sorted = [...new Set(dirs)].filter((d) => d.includes(`/${TEST_PARENT}/`) || isTestParent(d)).sort((a, b) => b.length - a.length);
  for (const dir of sorted) {
    if (!existsSync(dir)) continue;
    try {
      for (const sub of readdirSync(dir, { withFileTypes: true })) {
        if (sub.isDirectory()) removeCgroupDirs([path.join(dir, sub.name)]).forEach((r) => removed.push(r));
      }
      rmdirSync(dir);
      removed.push(dir);
    } catch {
      // still has processes: the runtime's kill or delete failed, which a check reports
    }
  }
  return removed;
}

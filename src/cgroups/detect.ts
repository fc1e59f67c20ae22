// What cgroup layout this host mounts, and where this process sits in it.
import { readFileSync } from 'node:fs';

export interface Hierarchy {
  /** controllers on this v1 hierarchy, e.g. ["cpu"] or ["cpu", "cpuacct"] or ["name=systemd"] */
  controllers: string[];
  mountpoint: string;
  /** the mount's root inside the hierarchy (not "/" inside a cgroup namespace) */
  root: string;
}

export interface CgroupLayout {
  /** v1 only, v1 plus a controller-less cgroup2 tree (hybrid), or unified v2 */
  mode: 'v1' | 'hybrid' | 'v2';
  v1: Hierarchy[];
  unified?: { mountpoint: string; root: string };
}

const V1_CONTROLLERS = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'blkio',
  'perf_event', 'net_prio', 'hugetlb', 'pids', 'rdma', 'misc',
]);

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseLayout(mountinfo: string): CgroupLayout {
  const v1: Hierarchy[] = [];
  let unified: CgroupLayout['unified'];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 0) continue;
    const fstype = f[dash + 1];
    const mountpoint = unescape(f[4] ?? '');
    const root = unescape(f[3] ?? '/');
    if (fstype === 'cgroup2') {
      unified = { mountpoint, root };
    } else if (fstype === 'cgroup') {
      const opts = (f[dash + 3] ?? '').split(',');
      const controllers = opts.filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='));
      if (controllers.length) v1.push({ controllers, mountpoint, root });
    }
  }
  const mode = v1.length === 0 ? 'v2' : unified ? 'hybrid' : 'v1';
  return { mode, v1, unified };
}

let cached: CgroupLayout | undefined;

export function hostLayout(): CgroupLayout {
  cached ??= parseLayout(readFileSync('/proc/self/mountinfo', 'utf8'));
  return cached;
}

/** /proc/<pid>/cgroup: "" for the unified hierarchy, else the comma-joined controllers. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) out.set(m[1] ?? '', m[2] ?? '/');
  }
  return out;
}

export function ownCgroups(): Map<string, string> {
  return parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
}

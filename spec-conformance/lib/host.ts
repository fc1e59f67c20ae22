// Facts about the machine the suite runs on: which namespaces and cgroup controllers it
// has, which LSMs are on. Checks that need what a host lacks test for a clear error instead.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';

export const NS_TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
export type NsProcName = (typeof NS_TYPES)[number];

/** config.json's namespace type for each /proc/<pid>/ns name */
export const CONFIG_NS: Record<NsProcName, string> = {
  cgroup: 'cgroup',
  ipc: 'ipc',
  mnt: 'mount',
  net: 'network',
  pid: 'pid',
  time: 'time',
  user: 'user',
  uts: 'uts',
};

export interface MountInfo {
  id: number;
  parent: number;
  root: string;
  point: string;
  options: string;
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string;
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0) continue;
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      root: unescapeMount(f[3] ?? ''),
      point: unescapeMount(f[4] ?? ''),
      options: f[5] ?? '',
      optional: f.slice(6, dash),
      fstype: f[dash + 1] ?? '',
      source: unescapeMount(f[dash + 2] ?? ''),
      superOptions: f[dash + 3] ?? '',
    });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface CgroupHierarchy {
  mountpoint: string;
  version: 1 | 2;
  /** v1: the controllers (and name=...) bound to this hierarchy */
  controllers: string[];
}

export class Host {
  readonly selfNs = new Map<NsProcName, string>();
  readonly hierarchies: CgroupHierarchy[] = [];
  readonly layout: 'v1' | 'hybrid' | 'v2';
  readonly apparmor: boolean;
  readonly selinux: boolean;
  readonly resctrl: string | undefined;
  readonly capBnd: bigint;

  constructor() {
    for (const ns of NS_TYPES) {
      try {
        this.selfNs.set(ns, readlinkSync(`/proc/self/ns/${ns}`));
      } catch {
        // this kernel lacks the namespace type
      }
    }
    const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    for (const m of mounts) {
      if (m.fstype === 'cgroup2') this.hierarchies.push({ mountpoint: m.point, version: 2, controllers: [] });
      if (m.fstype === 'cgroup') {
        const known = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'blkio', 'perf_event', 'net_prio', 'hugetlb', 'pids', 'rdma', 'misc'];
        const controllers = m.superOptions.split(',').filter((o) => known.includes(o) || o.startsWith('name='));
        this.hierarchies.push({ mountpoint: m.point, version: 1, controllers });
      }
    }
    const v1 = this.hierarchies.some((h) => h.version === 1);
    const v2 = this.hierarchies.some((h) => h.version === 2);
    this.layout = v1 && v2 ? 'hybrid' : v2 ? 'v2' : 'v1';
    this.apparmor = readOr('/sys/module/apparmor/parameters/enabled', 'N').trim() === 'Y';
    this.selinux = existsSync('/sys/fs/selinux/enforce');
    this.resctrl = mounts.find((m) => m.fstype === 'resctrl')?.point;
    const bnd = /CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    this.capBnd = BigInt('0x' + (bnd?.[1] ?? '0'));
  }

  /**
   * Where a controller's files are: its v1 hierarchy, or on a pure v2 host the v2 tree when
   * the controller is there. In hybrid mode resources live in v1 only (as runc and crun
   * treat it), so a controller that only the unified tree has counts as missing.
   */
  controllerRoot(controller: string): { mountpoint: string; version: 1 | 2 } | undefined {
    const v1 = this.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller));
    if (v1) return v1;
    if (this.layout !== 'v2') return undefined;
    const v2 = this.hierarchies.find((h) => h.version === 2);
    if (v2 && readOr(`${v2.mountpoint}/cgroup.controllers`, '').split(/\s+/).includes(controller)) return v2;
    return undefined;
  }

  hasCap(name: string): boolean {
    const n = CAP_NUMBERS[name];
    return n !== undefined && ((this.capBnd >> BigInt(n)) & 1n) === 1n;
  }
}

export function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

export const CAP_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** A capability set as /proc/<pid>/status prints it, as names. */
export function capNames(hex: string): string[] {
  const v = BigInt('0x' + hex);
  return Object.entries(CAP_NUMBERS)
    .filter(([, n]) => ((v >> BigInt(n)) & 1n) === 1n)
    .map(([name]) => name)
    .sort();
}

/** A live process, not a zombie waiting for its parent. */
export function processLives(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Mount points on the host at or under a directory, deepest first. */
export function mountsUnder(dir: string): string[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((m) => m.point)
    .filter((p) => p === dir || p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

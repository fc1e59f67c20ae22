// The config every check starts from: what `runc spec` writes (the config most callers
// send), with no terminal, a writable root, the probe as the program, and a cgroup under the
// test parent. A check changes only what it is about.
import { TEST_PARENT } from './cgroups.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Config = Record<string, any>;

export const PROBE = '/usr/local/bin/oci-probe';
export const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export const DEFAULT_MASKED = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];
export const DEFAULT_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function baseConfig(id: string, args: string[] = [PROBE, 'report']): Config {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: [PATH_ENV, 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'oci-conformance',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      cgroupsPath: `/${TEST_PARENT}/${id}`,
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [...DEFAULT_MASKED],
      readonlyPaths: [...DEFAULT_READONLY],
    },
  };
}

/** The namespace list without one type (the container then shares the runtime's). */
export function withoutNamespace(c: Config, type: string): void {
  c.linux.namespaces = (c.linux.namespaces as Array<{ type: string }>).filter((n) => n.type !== type);
}

export function setNamespace(c: Config, type: string, nsPath?: string): void {
  withoutNamespace(c, type);
  (c.linux.namespaces as Array<{ type: string; path?: string }>).push(nsPath ? { type, path: nsPath } : { type });
}

/** Args that run several probe commands in one container. */
export function probeArgs(...commands: string[][]): string[] {
  const args = [PROBE];
  commands.forEach((c, i) => {
    if (i > 0) args.push('--');
    args.push(...c);
  });
  return args;
}

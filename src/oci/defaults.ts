// The config `tsrun spec` writes: runc's default (and its --rootless variant), so that
// bundles made for one run unchanged under the other. Only ociVersion and the hostname differ.

export const OCI_VERSION = '1.2.1';

const defaultCaps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export interface SpecOptions {
  rootless?: boolean;
  uid?: number;
  gid?: number;
}

export function defaultSpec(opts: SpecOptions = {}): Record<string, unknown> {
  const spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...defaultCaps],
        effective: [...defaultCaps],
        permitted: [...defaultCaps],
        ambient: [...defaultCaps],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(opts.rootless ? [] : ['gid=5'])],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      opts.rootless
        ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
        : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      ...(opts.rootless
        ? {
            uidMappings: [{ containerID: 0, hostID: opts.uid ?? 0, size: 1 }],
            gidMappings: [{ containerID: 0, hostID: opts.gid ?? 0, size: 1 }],
          }
        : { resources: { devices: [{ allow: false, access: 'rwm' }] } }),
      namespaces: [
        { type: 'pid' },
        ...(opts.rootless ? [] : [{ type: 'network' }]),
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        ...(opts.rootless ? [{ type: 'user' }] : []),
      ],
      maskedPaths: [
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
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  return spec;
}

/** runc writes its spec tab-indented, with no final newline. */
export function formatSpec(spec: unknown): string {
  return JSON.stringify(spec, null, '\t');
}

// /dev contents: runc's default device nodes (a config device of the same path replaces
// one), linux.devices, the /dev/ptmx link into the container's devpts, and the /dev/fd,
// stdin, stdout, stderr (and core) links into /proc.
import { existsSync } from 'node:fs';
import { InvalidArgument } from '../../errors.js';
import { OpKind, OP_REPLACE, type PlanRootfsOp } from '../../native/index.js';
import type { DeviceSpec } from '../../oci/spec.js';
import { cleanPath, op } from './mounts.js';

interface DefaultDevice {
  path: string;
  major: number;
  minor: number;
}

export const DEFAULT_DEVICES: readonly DefaultDevice[] = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/tty', major: 5, minor: 0 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/urandom', major: 1, minor: 9 },
];

const TYPES: Record<string, PlanRootfsOp['devType']> = { c: 'c', u: 'c', b: 'b', p: 'p' };

/** The default devices a config device does not replace (their cgroup rules stay too). */
export function keptDefaultDevices(devices: readonly DeviceSpec[] = []): DefaultDevice[] {
  const given = new Set(devices.map((d) => cleanPath(d.path)));
  return DEFAULT_DEVICES.filter((d) => !given.has(d.path));
}

export function planDevices(devices: readonly DeviceSpec[] = [], useBind: boolean): PlanRootfsOp[] {
  const ops: PlanRootfsOp[] = [];
  for (const d of keptDefaultDevices(devices)) {
    ops.push(
      useBind
        ? op({ kind: OpKind.BindDevice, source: d.path, dest: d.path, describe: JSON.stringify(d.path) })
        : op({ kind: OpKind.Mknod, dest: d.path, devType: 'c', devMajor: d.major, devMinor: d.minor, mode: 0o666, describe: JSON.stringify(d.path) }),
    );
  }
  devices.forEach((d, i) => {
    const field = `linux.devices[${i}]`;
    const devType = TYPES[d.type];
    if (!devType) throw InvalidArgument.at(`${field}.type`, `unknown device type "${d.type}"`);
    const dest = cleanPath(d.path);
    if (!d.path.startsWith('/') || dest === '/') throw InvalidArgument.at(`${field}.path`, `"${d.path}" is not an absolute path to a device`);
    if (devType !== 'p' && (d.major === undefined || d.minor === undefined)) {
      throw InvalidArgument.at(field, 'a character or block device needs major and minor');
    }
    const describe = `linux.devices[${i}] ${JSON.stringify(d.path)}`;
    ops.push(
      useBind
        ? op({ kind: OpKind.BindDevice, configIndex: i, source: dest, dest, describe })
        : op({
            kind: OpKind.Mknod,
            configIndex: i,
            dest,
            devType,
            devMajor: d.major ?? 0,
            devMinor: d.minor ?? 0,
            mode: (d.fileMode ?? 0o666) & 0o7777,
            uid: d.uid ?? 0,
            gid: d.gid ?? 0,
            describe,
          }),
    );
  });
  ops.push(op({ kind: OpKind.Symlink, source: 'pts/ptmx', dest: '/dev/ptmx', flags: OP_REPLACE, describe: '"/dev/ptmx"' }));
  const links: Array<[string, string]> = [
    ['/proc/self/fd', '/dev/fd'],
    ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'],
    ['/proc/self/fd/2', '/dev/stderr'],
  ];
  // Only kernels built with CONFIG_PROC_KCORE have it.
  if (existsSync('/proc/kcore')) links.push(['/proc/kcore', '/dev/core']);
  for (const [target, link] of links) ops.push(op({ kind: OpKind.Symlink, source: target, dest: link, describe: JSON.stringify(link) }));
  return ops;
}

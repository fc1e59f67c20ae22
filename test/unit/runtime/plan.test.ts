import { describe, expect, it } from 'vitest';
import type { CgroupLayout } from '../../../src/cgroups/detect.js';
import { OpKind, type PlanRootfsOp } from '../../../src/native/wire.js';
import { defaultSpec } from '../../../src/oci/defaults.js';
import type { Config } from '../../../src/oci/spec.js';
import { parseConfig } from '../../../src/oci/validate.js';
import { buildPlan, refuseUnbuilt } from '../../../src/runtime/plan/index.js';
import { MS, parseMountOptions } from '../../../src/oci/mount-options.js';
import { planNamespaces } from '../../../src/runtime/plan/namespaces.js';

const hybrid: CgroupLayout = {
  mode: 'hybrid',
  v1: [
    { controllers: ['cpu', 'cpuacct'], mountpoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/' },
    { controllers: ['memory'], mountpoint: '/sys/fs/cgroup/memory', root: '/' },
    { controllers: ['name=systemd'], mountpoint: '/sys/fs/cgroup/systemd', root: '/' },
  ],
  unified: { mountpoint: '/sys/fs/cgroup/unified', root: '/' },
};
const paths = {
  v1: { 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c1', memory: '/sys/fs/cgroup/memory/c1', 'name=systemd': '/sys/fs/cgroup/systemd/c1' },
  unified: '/sys/fs/cgroup/unified/c1',
};

function config(edit: (c: any) => void = () => undefined): Config {
  const c = defaultSpec() as any;
  edit(c);
  const r = parseConfig(JSON.stringify(c));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

function plan(c: Config, layout: CgroupLayout = hybrid) {
  return buildPlan({ id: 'c1', bundle: '/b', config: c, rootfs: '/b/rootfs', cgroupPaths: paths, layout, noPivot: false, noNewKeyring: false });
}

const dests = (ops: PlanRootfsOp[]) => ops.map((o) => `${o.kind} ${o.dest}`);

describe('mount options', () => {
  it('sets and clears flags in order, and keeps the rest as data', () => {
    const p = parseMountOptions(['ro', 'nosuid', 'rw', 'rbind', 'rslave', 'mode=755', 'size=1m', 'exec', 'noexec']);
    expect(p.flags).toBe(MS.NOSUID | MS.BIND | MS.REC | MS.NOEXEC);
    expect(p.propagation).toEqual([MS.SLAVE | MS.REC]);
    expect(p.data).toEqual(['mode=755', 'size=1m']);
  });
});

describe('buildPlan', () => {
  it('turns runc spec defaults into mounts, devices and links in runc order', () => {
    const p = plan(config());
    expect(dests(p.rootfsOps)).toEqual([
      'mount /proc',
      'mount /dev',
      'mount /dev/pts',
      'mount /dev/shm',
      'mount /dev/mqueue',
      'mount /sys',
      'mount /sys/fs/cgroup',
      'bind /sys/fs/cgroup/cpu,cpuacct',
      'bind /sys/fs/cgroup/memory',
      'bind /sys/fs/cgroup/systemd',
      'symlink /sys/fs/cgroup/cpu',
      'symlink /sys/fs/cgroup/cpuacct',
      'mknod /dev/null',
      'mknod /dev/random',
      'mknod /dev/full',
      'mknod /dev/tty',
      'mknod /dev/zero',
      'mknod /dev/urandom',
      'symlink /dev/ptmx',
      'symlink /dev/fd',
      'symlink /dev/stdin',
      'symlink /dev/stdout',
      'symlink /dev/stderr',
    ]);
    const cg = p.rootfsOps.find((o) => o.dest === '/sys/fs/cgroup/memory');
    expect(cg).toMatchObject({ source: '/sys/fs/cgroup/memory/c1', flags: MS.BIND | MS.REC | MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY });
    expect(p.process.caps.bounding).toBe((1n << 29n) | (1n << 5n) | (1n << 10n));
    expect(p.process.rlimits).toEqual([{ resource: 7, soft: 1024n, hard: 1024n }]);
    expect(p.readonlyRoot).toBe(true);
    expect(p.hostname).toBe('tsrun');
  });

  it('mounts each hierarchy afresh inside a cgroup namespace', () => {
    const p = plan(config((c) => c.linux.namespaces.push({ type: 'cgroup' })));
    const sys = p.rootfsOps.find((o) => o.dest === '/sys/fs/cgroup/systemd');
    expect(sys).toMatchObject({ kind: OpKind.Mount, fstype: 'cgroup', source: 'systemd', data: 'name=systemd' });
  });

  it('mounts cgroup2 on a unified host', () => {
    const p = plan(config(), { mode: 'v2', v1: [], unified: { mountpoint: '/sys/fs/cgroup', root: '/' } });
    expect(p.rootfsOps.filter((o) => o.dest.startsWith('/sys/fs/cgroup')).map((o) => o.fstype)).toEqual(['cgroup2']);
  });

  it('mounts /dev writable and remembers to make it read-only, and skips device nodes for a bound /dev', () => {
    const ro = plan(config((c) => c.mounts[1].options.push('ro')));
    expect(ro.readonlyDev).toBe(true);
    expect((ro.rootfsOps[1]?.flags ?? -1) & MS.RDONLY).toBe(0);
    const bound = plan(config((c) => (c.mounts[1] = { destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] })));
    expect(bound.rootfsOps.some((o) => o.kind === OpKind.Mknod)).toBe(false);
  });

  it('lets a config device replace a default one', () => {
    const p = plan(config((c) => (c.linux.devices = [{ type: 'c', path: '/dev/null', major: 1, minor: 5, fileMode: 0o600 }])));
    const nulls = p.rootfsOps.filter((o) => o.dest === '/dev/null');
    expect(nulls).toHaveLength(1);
    expect(nulls[0]).toMatchObject({ devMinor: 5, mode: 0o600, configIndex: 0 });
  });

  it('resolves relative bind sources against the bundle', () => {
    const p = plan(config((c) => c.mounts.push({ destination: '/data', source: 'data', options: ['bind'] })));
    expect(p.rootfsOps.find((o) => o.dest === '/data')).toMatchObject({ kind: OpKind.Bind, source: '/b/data' });
  });

  it('refuses fields that are not built yet instead of ignoring them', () => {
    // linux.resources is built (issue 03): no longer refused
    expect(() => refuseUnbuilt(config((c) => (c.linux.resources.memory = { limit: 1 << 20 })))).not.toThrow();
    expect(() => refuseUnbuilt(config((c) => (c.linux.netDevices = { eth9: {} })))).toThrow(/linux\.netDevices/);
    expect(() => refuseUnbuilt(config())).not.toThrow();
  });
});

describe('planNamespaces', () => {
  it('orders the user namespace first and keeps paths', () => {
    const ns = planNamespaces([{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }, { type: 'user' }]);
    expect(ns).toEqual([
      { type: 'user', path: '' },
      { type: 'network', path: '/run/netns/x' },
      { type: 'mount', path: '' },
    ]);
  });
});

// Differential probes: the same bundle run by runc and by tsrun, with a static probe inside
// reporting what the process sees (capabilities, NoNewPrivs, ids and groups, umask, cwd,
// env, hostname, keyring, rlimits, fds, mounts and their flags, /dev, masked and read-only
// paths). The two reports must match line for line.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle, type AnyConfig } from '../helpers/bundle.js';
import { runc, tsrun } from '../helpers/cli.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

/** Lines that differ between two correct runs for reasons outside the runtime. */
function normalize(report: string): string[] {
  return report
    .split('\n')
    .filter(Boolean)
    // Where stdio points differs on purpose: runc's foreground run interposes pipes, tsrun
    // hands over its own stdio. The fd numbers (and so the count) must still match.
    .map((l) => l.replace(/^(fd \d+) .*$/, '$1'));
}

interface Variation {
  name: string;
  edit: (c: AnyConfig, b: TestBundle) => void;
  flags?: string[];
}

const ALL_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_NET_RAW'];

const variations: Variation[] = [
  { name: 'default', edit: () => undefined },
  {
    name: 'user',
    edit: (c) => {
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [100, 5], umask: 0o077 };
      c.process.cwd = '/home/user';
      c.process.env.push('FOO=bar baz', 'EMPTY=');
    },
  },
  {
    name: 'user-with-home-env',
    edit: (c) => {
      c.process.user = { uid: 1, gid: 1 };
      c.process.env.push('HOME=/elsewhere');
      c.process.cwd = '/tmp';
    },
  },
  {
    name: 'capabilities',
    edit: (c) => {
      c.process.capabilities = {
        bounding: ALL_CAPS,
        effective: ALL_CAPS,
        permitted: ALL_CAPS,
        inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
        ambient: ['CAP_KILL', 'CAP_NET_RAW'],
      };
    },
  },
  {
    name: 'no-capabilities',
    edit: (c) => {
      c.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
    },
  },
  {
    name: 'non-root-capabilities',
    edit: (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = { bounding: ALL_CAPS, effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
    },
  },
  {
    name: 'rlimits',
    edit: (c) => {
      c.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 },
        { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
        { type: 'RLIMIT_MSGQUEUE', soft: 8192, hard: 16384 },
      ];
    },
  },
  {
    name: 'hostname-and-privileges',
    edit: (c) => {
      c.hostname = 'probe-host';
      c.domainname = 'probe.example';
      c.process.noNewPrivileges = false;
      c.root.readonly = false;
    },
  },
  {
    name: 'mounts',
    edit: (c, b) => {
      const host = path.join(b.dir, 'hostdir');
      mkdirSync(path.join(host, 'sub'), { recursive: true });
      writeFileSync(path.join(b.dir, 'hostfile'), 'data');
      c.mounts.push(
        { destination: '/mnt/ro', type: 'bind', source: host, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
        { destination: '/mnt/rw', type: 'none', source: host, options: ['bind'] },
        { destination: '/etc/hostfile', type: 'bind', source: 'hostfile', options: ['bind', 'ro'] },
        { destination: '/mnt/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1770', 'size=1m'] },
        { destination: '/mnt/deep/er/mount', type: 'tmpfs', source: 'tmpfs', options: ['ro'] },
      );
    },
  },
  {
    name: 'paths',
    edit: (c) => {
      c.linux.maskedPaths = ['/proc/kcore', '/proc/keys', '/sys/firmware', '/proc/does-not-exist'];
      c.linux.readonlyPaths = ['/proc/sys', '/proc/irq', '/nope'];
      c.mounts = c.mounts.map((m: AnyConfig) => (m.destination === '/dev' ? { ...m, options: [...m.options, 'ro'] } : m));
    },
  },
  { name: 'no-pivot', edit: () => undefined, flags: ['--no-pivot'] },
  { name: 'no-new-keyring', edit: () => undefined, flags: ['--no-new-keyring'] },
];

describe('the probe sees the same under runc and tsrun', () => {
  it.each(variations)('$name', async ({ name, edit, flags = [] }) => {
    const b = new TestBundle(`probe-${name}`);
    bundles.push(b);
    b.edit((c) => edit(c, b));
    const viaRunc = await runc(path.join(b.dir, 'runc-state'), ['run', ...flags, '--bundle', b.dir, b.id]);
    expect(viaRunc.stderr).toBe('');
    expect(viaRunc.code).toBe(0);
    const viaTsrun = await tsrun(b.root, ['run', ...flags, '--bundle', b.dir, b.id]);
    expect(viaTsrun.stderr).toBe('');
    expect(viaTsrun.code).toBe(0);
    expect(normalize(viaTsrun.stdout)).toEqual(normalize(viaRunc.stdout));
    expect(viaTsrun.stdout).toContain('args ok');
  });
});

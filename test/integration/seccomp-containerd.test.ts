// containerd's own seccomp profiles through containerd: `ctr run --seccomp` (containerd 1.6's
// default profile) and `--seccomp-profile` (a docker-style one), with tsrun as the runc binary
// of containerd's runc shim. A wrapper in front of the runtime keeps the runtime's state in a
// directory of the test's own (the shim would use /run/containerd/runc) and can keep a copy of
// the config.json containerd wrote, which checks our generated containerd profile against the
// real one.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../helpers/bundle.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { startContainerd, type PrivateContainerd } from '../helpers/containerd.js';
import { fixtureRootfs, TEST_CGROUP_PARENT, tsrunBin } from '../helpers/paths.js';
import { containerdDefault, dockerStyle, type Profile } from '../helpers/seccomp-profiles.js';

const NAMESPACE = 'tsrun-seccomp';
let ctrd: PrivateContainerd;
let dir: string;
let rootfs: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-seccomp-ctr-'));
  rootfs = path.join(dir, 'rootfs');
  execFileSync('cp', ['-a', fixtureRootfs, rootfs]);
  ctrd = await startContainerd();
});

afterAll(async () => {
  await ctrd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A runc-compatible binary that runs `runtime` with its state under our dir, copying config.json on create. */
function wrapper(name: string, runtime: string[], capture?: string): string {
  const root = path.join(dir, `${name}-state`);
  const file = path.join(dir, `${name}.sh`);
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      'first=1; prev=; replace=0',
      'for a in "$@"; do',
      '  if [ $first = 1 ]; then set --; first=0; fi',
      capture ? `  if [ "$prev" = --bundle ]; then cp "$a/config.json" ${q(capture)}; fi` : '',
      `  if [ $replace = 1 ]; then a=${q(root)}; replace=0; fi`,
      '  if [ "$a" = --root ]; then replace=1; fi',
      '  prev=$a',
      '  set -- "$@" "$a"',
      'done',
      `exec ${runtime.map(q).join(' ')} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return file;
}

function ctrRun(runtime: string, flags: string[], args: string[]): string {
  const id = uniqueId('ctr');
  // The cgroup under the tests' parent, not containerd's /<namespace>/<id>.
  const cgroup = `/${TEST_CGROUP_PARENT}/${id}`;
  const out = ctrd.ctr(['run', '--rm', '--rootfs', '--cgroup', cgroup, '--runc-binary', runtime, ...flags, rootfs, id, ...args], { namespace: NAMESPACE, timeoutMs: 30_000 });
  expect(leftoverCgroups(id)).toEqual([]);
  return out;
}

const ALL_CAPS_BUT_RESOURCE = [
  'CAP_DAC_READ_SEARCH', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_MODULE', 'CAP_SYS_PACCT', 'CAP_SYS_PTRACE', 'CAP_SYS_RAWIO',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_SYS_NICE', 'CAP_SYSLOG', 'CAP_BPF', 'CAP_PERFMON', 'CAP_LINUX_IMMUTABLE',
  'CAP_IPC_LOCK', 'CAP_NET_ADMIN', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_CONTROL', 'CAP_AUDIT_READ',
];

/** Empty args lists are how containerd's Go types say "none"; our generator leaves them out. */
const normal = (p: Profile): string => JSON.stringify(p, (k, v: unknown) => (k === 'args' && Array.isArray(v) && v.length === 0 ? undefined : v));

describe('containerd 1.6 seccomp profiles', () => {
  it.each([
    ['ctr\'s default capabilities', []],
    ['every capability the host allows', ALL_CAPS_BUT_RESOURCE.flatMap((c) => ['--cap-add', c])],
  ])('our containerd default profile is the one ctr writes, with %s', (_what, capFlags) => {
    const captured = path.join(dir, 'captured.json');
    rmSync(captured, { force: true });
    ctrRun(wrapper('capture', ['runc'], captured), ['--seccomp', ...capFlags], ['/usr/local/bin/probe', 'exit', '0']);
    expect(existsSync(captured)).toBe(true);
    const config = JSON.parse(readFileSync(captured, 'utf8')) as Profile;
    expect(normal(containerdDefault(config.process.capabilities.bounding as string[]))).toBe(normal(config.linux.seccomp as Profile));
  });

  const CALLS = ['getpid', '--', 'unshare', '0x20000', '--', 'mount', 's:none', 's:/mnt', 's:tmpfs', '0', '--', 'keyctl', '0', '--', 'clone3', '--', '1000'];
  const REFUSED = [
    'syscall getpid = 1',
    'syscall unshare = -1 EPERM',
    'syscall mount = -1 EPERM',
    'syscall keyctl = -1 EPERM',
    // clone3 is refused with ENOSYS so that glibc falls back to clone; 1000 is newer than the profile
    'syscall clone3 = -1 ENOSYS',
    'syscall 1000 = -1 ENOSYS',
  ];

  it('ctr run --seccomp under tsrun: unshare, mount and keyctl get EPERM', () => {
    const out = ctrRun(wrapper('tsrun', [tsrunBin]), ['--seccomp'], ['/usr/local/bin/probe', 'syscall', ...CALLS]);
    expect(out.split('\n').filter(Boolean)).toEqual(REFUSED);
    const viaRunc = ctrRun(wrapper('runc', ['runc']), ['--seccomp'], ['/usr/local/bin/probe', 'syscall', ...CALLS]);
    expect(out).toBe(viaRunc);
  });

  it('ctr run --seccomp-profile with a docker-style profile of several hundred rules under tsrun', () => {
    const profile = path.join(dir, 'docker-style.json');
    const p = dockerStyle();
    expect(p.syscalls.length).toBeGreaterThan(300);
    writeFileSync(profile, JSON.stringify(p));
    const out = ctrRun(wrapper('tsrun', [tsrunBin]), ['--seccomp', '--seccomp-profile', profile], ['/usr/local/bin/probe', 'syscall', ...CALLS, '--', 'socket', '40', '1', '0']);
    // ...and AF_VSOCK sockets, which moby's profile filters by argument
    expect(out.split('\n').filter(Boolean)).toEqual([...REFUSED, 'syscall socket = -1 EPERM']);
  });
});

// Bad input of every kind: a non-zero exit, a message naming the field or flag at fault,
// and nothing left behind (no state, cgroup, mount or process).
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestBundle, type AnyConfig } from '../helpers/bundle.js';
import { errorOf, tsrun, type Result } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';

const bundles: TestBundle[] = [];
afterEach(() => bundles.splice(0).forEach((b) => b.remove()));

function bundle(name: string): TestBundle {
  const b = new TestBundle(name, ['sleep', '1000']);
  bundles.push(b);
  return b;
}

async function expectRefused(b: TestBundle, r: Result, fragment: string, code = 1): Promise<void> {
  expect(r.code).toBe(code);
  expect(errorOf(r)).toContain(fragment);
  // No stack traces, one line.
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(existsSync(path.join(b.root, b.id))).toBe(false);
  expect(leftoverCgroups(b.id)).toEqual([]);
  expect(leftoverMounts(b.dir)).toEqual([]);
  expect((await tsrun(b.root, ['list', '-q'])).stdout).toBe('');
}

const configCases: Array<[string, (c: AnyConfig) => void, string]> = [
  ['empty args', (c) => (c.process.args = []), 'process.args'],
  ['relative cwd', (c) => (c.process.cwd = 'tmp'), 'process.cwd'],
  ['negative uid', (c) => (c.process.user.uid = -1), 'process.user.uid'],
  ['unknown capability', (c) => (c.process.capabilities.bounding = ['CAP_FLY']), 'process.capabilities.bounding[0]'],
  ['unknown namespace', (c) => c.linux.namespaces.push({ type: 'wormhole' }), 'linux.namespaces[5].type'],
  ['duplicate namespace', (c) => c.linux.namespaces.push({ type: 'pid' }), 'linux.namespaces[5].type'],
  ['hostname without uts', (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: AnyConfig) => n.type !== 'uts')), 'hostname'],
  ['unknown rlimit', (c) => (c.process.rlimits = [{ type: 'RLIMIT_FUN', soft: 1, hard: 1 }]), 'process.rlimits[0].type'],
  ['soft above hard', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 1 }]), 'process.rlimits[0]'],
  ['relative mount destination', (c) => c.mounts.push({ destination: 'mnt', type: 'tmpfs', source: 'tmpfs' }), 'mounts[7].destination'],
  ['mount without type', (c) => c.mounts.push({ destination: '/mnt', source: 'x' }), 'mounts[7].type'],
  ['missing root', (c) => (c.root.path = 'no-such-rootfs'), 'root.path'],
  ['no process', (c) => delete c.process, 'process'],
  ['bad device type', (c) => (c.linux.devices = [{ type: 'x', path: '/dev/x', major: 1, minor: 1 }]), 'linux.devices[0].type'],
  ['relative device path', (c) => (c.linux.devices = [{ type: 'c', path: 'dev/x', major: 1, minor: 1 }]), 'linux.devices[0].path'],
  ['masked paths without mount ns', (c) => (c.linux.namespaces = [{ type: 'pid' }]) && delete c.hostname, 'linux.maskedPaths'],
  ['unknown seccomp action', (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_MAYBE' }), 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_MAYBE"'],
  ['wrong type', (c) => (c.process.terminal = 'yes'), 'process.terminal'],
];

describe('bad config.json', () => {
  it.each(configCases)('%s', async (_name, edit, field) => {
    const b = bundle('badcfg');
    b.edit(edit);
    await expectRefused(b, await tsrun(b.root, ['create', '--bundle', b.dir, b.id]), field);
  });

  it('invalid JSON', async () => {
    const b = bundle('json');
    writeFileSync(path.join(b.dir, 'config.json'), '{"ociVersion": "1.2.1", ');
    await expectRefused(b, await tsrun(b.root, ['create', '--bundle', b.dir, b.id]), 'config.json: (config): invalid JSON');
  });

  it('missing bundle', async () => {
    const b = bundle('nobundle');
    await expectRefused(b, await tsrun(b.root, ['create', '--bundle', path.join(b.dir, 'nope'), b.id]), 'does not exist');
  });
});

describe('failures inside tsrun-init', () => {
  it('a program that does not exist fails create, not start', async () => {
    const b = bundle('noexec');
    b.edit((c) => (c.process.args = ['no-such-program']));
    const r = await tsrun(b.root, ['create', '--bundle', b.dir, b.id]);
    await expectRefused(b, r, 'exec lookup');
    expect(errorOf(r)).toContain('"no-such-program": executable file not found in $PATH');
  });

  it('a mount the kernel refuses names the mount', async () => {
    const b = bundle('badmount');
    b.edit((c) => c.mounts.push({ destination: '/mnt/x', type: 'nosuchfs', source: 'none' }));
    const r = await tsrun(b.root, ['create', '--bundle', b.dir, b.id]);
    await expectRefused(b, r, 'mount mounts[7] "/mnt/x": no such device');
  });

  it('a bind source that does not exist names the mount', async () => {
    const b = bundle('badbind');
    b.edit((c) => c.mounts.push({ destination: '/mnt/x', type: 'bind', source: '/no/such/dir', options: ['bind'] }));
    await expectRefused(b, await tsrun(b.root, ['create', '--bundle', b.dir, b.id]), 'mounts[7] "/mnt/x": no such file or directory');
  });

  it('a cwd that is a file names the cwd', async () => {
    const b = bundle('badcwd');
    b.edit((c) => (c.process.cwd = '/bin/busybox'));
    await expectRefused(b, await tsrun(b.root, ['create', '--bundle', b.dir, b.id]), 'cwd: not a directory: /bin/busybox');
  });
});

describe('bad command lines', () => {
  const cases: Array<[string, (b: TestBundle) => string[], string]> = [
    ['unknown flag', (b) => ['create', '--frobnicate', '--bundle', b.dir, b.id], "unknown option '--frobnicate'"],
    ['missing id', (b) => ['create', '--bundle', b.dir], "missing required argument 'container-id'"],
    ['id with a slash', (b) => ['create', '--bundle', b.dir, 'a/b'], 'invalid container id "a/b"'],
    ['id ..', (b) => ['create', '--bundle', b.dir, '..'], 'invalid container id ".."'],
    ['empty id', (b) => ['create', '--bundle', b.dir, ''], 'container id must not be empty'],
    ['too many arguments', (b) => ['state', b.id, 'extra'], 'too many arguments'],
    ['bad log format', (b) => ['--log-format', 'xml', 'list'], "--log-format"],
    ['bad preserve-fds', (b) => ['create', '--preserve-fds', 'two', '--bundle', b.dir, b.id], '--preserve-fds'],
    ['terminal without console socket', (b) => ['create', '--bundle', b.dir, b.id], '--console-socket'],
    ['console socket without terminal', (b) => ['create', '--console-socket', '/tmp/nope.sock', '--bundle', b.dir, b.id], '--console-socket'],
    // runc's (urfave/cli's) words and status for a command it does not have
    ['unknown command', () => ['frobnicate'], "No help topic for 'frobnicate'"],
  ];
  it.each(cases)('%s', async (name, args, fragment) => {
    const b = bundle('badflag');
    if (name === 'terminal without console socket') b.edit((c) => (c.process.terminal = true));
    await expectRefused(b, await tsrun(b.root, args(b)), fragment, name === 'unknown command' ? 3 : 1);
  });
});

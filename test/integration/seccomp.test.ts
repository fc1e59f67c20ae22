// Seccomp profiles, differentially: the same bundle under runc 1.1.5 and tsrun, with the probe
// making raw syscalls and printing what each returned. Exit codes and every line must match,
// and each case also states what it expects, so that both runtimes being wrong the same way
// still fails.
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { TestBundle, type AnyConfig } from '../helpers/bundle.js';
import { errorOf, runc, tsrun } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';
import { dockerStyle, type Profile } from '../helpers/seccomp-profiles.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

interface Case {
  name: string;
  seccomp: Profile;
  /** probe syscall arguments */
  calls: string[];
  noNewPrivileges?: boolean;
  code: number;
  /** lines that must be in the output, in order */
  lines: string[];
}

const SIGSYS_EXIT = 128 + 31;
const allowBut = (...syscalls: Profile[]): Profile => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls });
const mkdirRule = (rule: Profile): Profile => ({ names: ['mkdir', 'mkdirat'], ...rule });
const MKDIR_THEN_MORE = ['getpid', '--', 'mkdir', 's:/tmp/made', '0755', '--', 'getppid'];

const cases: Case[] = [
  {
    name: 'errno without errnoRet is EPERM',
    seccomp: allowBut(mkdirRule({ action: 'SCMP_ACT_ERRNO' })),
    calls: MKDIR_THEN_MORE,
    code: 0,
    lines: ['syscall getpid = 1', 'syscall mkdir = -1 EPERM', 'syscall getppid = 0'],
  },
  {
    name: 'errno with errnoRet',
    seccomp: allowBut(mkdirRule({ action: 'SCMP_ACT_ERRNO', errnoRet: 95 })),
    calls: MKDIR_THEN_MORE,
    code: 0,
    lines: ['syscall mkdir = -1 EOPNOTSUPP'],
  },
  {
    name: 'errno loaded before the capabilities go (noNewPrivileges false)',
    seccomp: allowBut(mkdirRule({ action: 'SCMP_ACT_ERRNO', errnoRet: 13 })),
    calls: MKDIR_THEN_MORE,
    noNewPrivileges: false,
    code: 0,
    lines: ['syscall mkdir = -1 EACCES'],
  },
  // SIGSYS ends the probe at mkdir, before getppid: KILL (thread), KILL_PROCESS (with a core
  // dump) and TRAP (the signal, unhandled)
  ...['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP'].map((action) => ({
    name: action.slice('SCMP_ACT_'.length).toLowerCase().replace('_', ' '),
    seccomp: allowBut(mkdirRule({ action })),
    calls: MKDIR_THEN_MORE,
    code: SIGSYS_EXIT,
    lines: ['syscall getpid = 1'],
  })),
  {
    name: 'log lets the call through',
    seccomp: allowBut(mkdirRule({ action: 'SCMP_ACT_LOG' })),
    calls: ['mkdir', 's:/tmp/made', '0755', '--', 'rmdir', 's:/tmp/made'],
    code: 0,
    lines: ['syscall mkdir = 0', 'syscall rmdir = 0'],
  },
  {
    name: 'trace without a tracer is ENOSYS',
    seccomp: allowBut(mkdirRule({ action: 'SCMP_ACT_TRACE' })),
    calls: MKDIR_THEN_MORE,
    code: 0,
    lines: ['syscall mkdir = -1 ENOSYS'],
  },
  {
    name: 'argument filters with every operator',
    seccomp: allowBut(
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 8, op: 'SCMP_CMP_GT' }] },
      { names: ['dup'], action: 'SCMP_ACT_ERRNO', errnoRet: 9, args: [{ index: 0, value: 1, op: 'SCMP_CMP_LT' }] },
      { names: ['umask'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 0o22, op: 'SCMP_CMP_LE' }] },
      { names: ['getsid'], action: 'SCMP_ACT_ERRNO', errnoRet: 3, args: [{ index: 0, value: 100, op: 'SCMP_CMP_GE' }] },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 1, value: 0, op: 'SCMP_CMP_NE' }] },
      // clone without namespace flags (masked) / with exactly CLONE_NEWPID: refused with distinct errnos
      { names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: 11, args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: 16, args: [{ index: 0, value: 0x20000000, op: 'SCMP_CMP_EQ' }] },
      // two arguments: both must match; the same argument twice: either may
      { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2, op: 'SCMP_CMP_EQ' }] },
      { names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 3, args: [{ index: 0, value: 100, op: 'SCMP_CMP_EQ' }, { index: 0, value: 200, op: 'SCMP_CMP_EQ' }] },
    ),
    calls: [
      ...['personality', '0xffffffff', '--', 'personality', '0', '--'],
      ...['dup', '0', '--', 'dup', '1', '--'],
      ...['umask', '0x12', '--', 'umask', '0x1ff', '--'],
      ...['124', '100', '--', '124', '0', '--'],
      ...['kill', '1', '0', '--', 'kill', '1', '15', '--'],
      ...['clone', '0x11', '--', 'clone', '0x20000000', '--', 'clone', '0x40000000', '--'],
      ...['socket', '1', '2', '0', '--', 'socket', '1', '1', '0', '--'],
      ...['121', '100', '--', '121', '200', '--', '121', '0'],
    ],
    code: 0,
    lines: [
      'syscall personality = -1 EINVAL',
      'syscall personality = 0',
      'syscall dup = -1 EBADF',
      'syscall dup = 3',
      'syscall umask = -1 EPERM',
      'syscall umask = 18',
      'syscall 124 = -1 ESRCH',
      'syscall 124 = 1',
      'syscall kill = 0',
      'syscall kill = -1 EPERM',
      'syscall clone = -1 EAGAIN',
      'syscall clone = -1 EBUSY',
      // let through by the filter, refused by the kernel: no CAP_SYS_ADMIN
      'syscall clone = -1 EPERM',
      'syscall socket = -1 EAFNOSUPPORT',
      'syscall socket = 4',
      'syscall 121 = -1 ESRCH',
      'syscall 121 = -1 ESRCH',
      'syscall 121 = 1',
    ],
  },
  {
    name: 'unknown syscall names are skipped',
    seccomp: allowBut({ names: ['no_such_syscall', 'mkdir', 'another_one'], action: 'SCMP_ACT_ERRNO' }),
    calls: MKDIR_THEN_MORE,
    code: 0,
    lines: ['syscall mkdir = -1 EPERM'],
  },
  {
    name: 'a docker-style allow-list: defaultErrnoRet, and ENOSYS for syscalls newer than the profile',
    seccomp: { ...dockerStyle(), defaultErrnoRet: 13 },
    calls: ['keyctl', '0', '--', 'unshare', '0x20000', '--', 'mount', 's:none', 's:/mnt', 's:tmpfs', '0', '--', 'clone3', '--', '1000', '--', 'getpid'],
    code: 0,
    lines: ['syscall keyctl = -1 EACCES', 'syscall unshare = -1 EACCES', 'syscall mount = -1 EACCES', 'syscall clone3 = -1 ENOSYS', 'syscall 1000 = -1 ENOSYS', 'syscall getpid = 1'],
  },
];

function bundleFor(name: string, c: { seccomp: Profile; noNewPrivileges?: boolean }, args: string[]): TestBundle {
  const b = new TestBundle(`seccomp-${name.replace(/\W+/g, '-').slice(0, 24)}`, args);
  bundles.push(b);
  b.edit((cfg: AnyConfig) => {
    cfg.linux.seccomp = c.seccomp;
    cfg.root.readonly = false;
    if (c.noNewPrivileges !== undefined) cfg.process.noNewPrivileges = c.noNewPrivileges;
  });
  return b;
}

describe('seccomp behaves as under runc', () => {
  it.each(cases)('$name', async (c) => {
    const b = bundleFor(c.name, c, ['/usr/local/bin/probe', 'syscall', ...c.calls]);
    const viaRunc = await runc(path.join(b.dir, 'runc-state'), ['run', '--bundle', b.dir, b.id]);
    const viaTsrun = await tsrun(b.root, ['run', '--bundle', b.dir, b.id]);
    expect(viaTsrun.stderr).toBe(viaRunc.stderr);
    expect(viaTsrun.code).toBe(viaRunc.code);
    expect(viaTsrun.stdout).toBe(viaRunc.stdout);
    expect(viaTsrun.code).toBe(c.code);
    const lines = viaTsrun.stdout.split('\n');
    let at = 0;
    for (const want of c.lines) {
      const found = lines.indexOf(want, at);
      expect(found, `"${want}" in\n${viaTsrun.stdout}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
    expect(leftoverCgroups(b.id)).toEqual([]);
    expect(leftoverMounts(b.dir)).toEqual([]);
  });

  it('shows seccomp mode 2 in /proc/self/status, with and without noNewPrivileges', async () => {
    for (const noNewPrivileges of [true, false]) {
      const b = bundleFor(`status-${noNewPrivileges}`, { seccomp: allowBut(mkdirRule({ action: 'SCMP_ACT_ERRNO' })), noNewPrivileges }, ['/usr/local/bin/probe']);
      const status = (out: string): string[] => out.split('\n').filter((l) => /^status (Seccomp|NoNewPrivs|Cap)/.test(l));
      const viaRunc = await runc(path.join(b.dir, 'runc-state'), ['run', '--bundle', b.dir, b.id]);
      const viaTsrun = await tsrun(b.root, ['run', '--bundle', b.dir, b.id]);
      expect(viaTsrun.code).toBe(0);
      expect(status(viaTsrun.stdout)).toEqual(status(viaRunc.stdout));
      expect(status(viaTsrun.stdout)).toContain('status Seccomp 2');
      expect(status(viaTsrun.stdout)).toContain(`status NoNewPrivs ${noNewPrivileges ? 1 : 0}`);
    }
  });
});

describe('seccomp in exec\'d processes', () => {
  it('applies the container\'s profile to exec, as runc does', async () => {
    const seccomp = allowBut(mkdirRule({ action: 'SCMP_ACT_ERRNO', errnoRet: 95 }));
    const b = bundleFor('exec', { seccomp }, ['/usr/local/bin/probe', 'sleep', '60']);
    const outputs: string[][] = [];
    for (const cli of [(args: string[]) => runc(path.join(b.dir, 'runc-state'), args), (args: string[]) => tsrun(b.root, args)]) {
      expect((await cli(['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
      try {
        // (no getpid: runc's exec takes more pids in the container's namespace than ours)
        const calls = await cli(['exec', b.id, '/usr/local/bin/probe', 'syscall', 'mkdir', 's:/tmp/made', '0755', '--', 'getppid']);
        const report = await cli(['exec', b.id, '/usr/local/bin/probe']);
        expect(calls.code).toBe(0);
        outputs.push([calls.stdout, ...report.stdout.split('\n').filter((l) => /^status (Seccomp|NoNewPrivs)/.test(l))]);
      } finally {
        await cli(['delete', '--force', b.id]);
      }
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[1]).toEqual(['syscall mkdir = -1 EOPNOTSUPP\nsyscall getppid = 0\n', 'status NoNewPrivs 1', 'status Seccomp 2']);
    expect(leftoverCgroups(b.id)).toEqual([]);
  });
});

describe('seccomp beyond runc 1.1.5', () => {
  it('loads with SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW (runc 1.1.5 refuses every flag)', async () => {
    const seccomp = { ...allowBut(mkdirRule({ action: 'SCMP_ACT_ERRNO' })), flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] };
    const b = bundleFor('flags', { seccomp }, ['/usr/local/bin/probe', 'syscall', ...MKDIR_THEN_MORE]);
    const r = await tsrun(b.root, ['run', '--bundle', b.dir, b.id]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('syscall mkdir = -1 EPERM');
  });

  it('refuses invalid profiles naming the rule, leaving nothing behind', async () => {
    const invalid: Array<[Profile, string]> = [
      [allowBut(mkdirRule({ action: 'SCMP_ACT_SOMETIMES' })), 'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_SOMETIMES" (rule for mkdir, mkdirat)'],
      [allowBut(mkdirRule({ action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] })), 'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_ABOUT" (rule for mkdir, mkdirat)'],
      [allowBut({ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }, mkdirRule({ action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] })), 'linux.seccomp.syscalls[1].args[0].index: 6 is out of range: syscalls have arguments 0 to 5 (rule for mkdir, mkdirat)'],
    ];
    for (const [seccomp, message] of invalid) {
      const b = bundleFor('invalid', { seccomp }, ['/usr/local/bin/probe']);
      const r = await tsrun(b.root, ['create', '--bundle', b.dir, b.id]);
      expect(r.code).toBe(1);
      expect(errorOf(r)).toBe(message);
      expect(leftoverCgroups(b.id)).toEqual([]);
      expect(leftoverMounts(b.dir)).toEqual([]);
      const list = await tsrun(b.root, ['list', '-q']);
      expect(list.stdout.trim()).toBe('');
    }
  });
});

// The compiled programs, run through a BPF interpreter: what each rule does to a syscall.
import { describe, expect, it } from 'vitest';
import { decode } from '../../../src/seccomp/bpf.js';
import { cachedFilters, compileSeccomp } from '../../../src/seccomp/compile.js';
import { FLAG_LOG, FLAG_NEW_LISTENER, FLAG_WAIT_KILLABLE_RECV } from '../../../src/seccomp/names.js';
import type { SeccompRequest } from '../../../src/seccomp/request.js';
import { seccompRequest } from '../../../src/runtime/plan/seccomp.js';
import { runFilter } from '../../helpers/bpf-run.js';
import { containerdDefault, dockerStyle, type Profile } from '../../helpers/seccomp-profiles.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const X32_BIT = 0x40000000;
const NR = { getpid: 39, mkdir: 83, rmdir: 84, personality: 135, clone: 56, clone3: 435, socket: 41, unshare: 272, keyctl: 250 };
const RET = { allow: 0x7fff0000, errno: (e: number) => 0x50000 + e, killThread: 0, killProcess: 0x80000000, trap: 0x30000, log: 0x7ffc0000, trace: 0x7ff00000, notify: 0x7fc00000 };
const EPERM = 1;
const ENOSYS = 38;

function request(p: Profile): SeccompRequest {
  // The OCI schema makes bigints of argument values; so does this.
  const big = { ...p, syscalls: (p.syscalls ?? []).map((s: Profile) => ({ ...s, args: s.args?.map((a: Profile) => ({ ...a, value: BigInt(a.value), valueTwo: a.valueTwo === undefined ? undefined : BigInt(a.valueTwo) })) })) };
  const req = seccompRequest(big as never);
  if (!req) throw new Error('no filter');
  return req;
}

function verdict(p: Profile, nr: number, args: bigint[] = [], arch = X86_64): number {
  return runFilter(decode(compileSeccomp(request(p)).bpf), { nr, arch, args });
}

const allowBut = (rule: Profile): Profile => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule] });

describe('seccomp compile', () => {
  it('gives each action its verdict, errno EPERM unless errnoRet says otherwise', () => {
    const cases: Array<[Profile, number]> = [
      [{ action: 'SCMP_ACT_ERRNO' }, RET.errno(EPERM)],
      [{ action: 'SCMP_ACT_ERRNO', errnoRet: 38 }, RET.errno(ENOSYS)],
      [{ action: 'SCMP_ACT_KILL' }, RET.killThread],
      [{ action: 'SCMP_ACT_KILL_THREAD' }, RET.killThread],
      [{ action: 'SCMP_ACT_KILL_PROCESS' }, RET.killProcess],
      [{ action: 'SCMP_ACT_TRAP' }, RET.trap],
      [{ action: 'SCMP_ACT_LOG' }, RET.log],
      [{ action: 'SCMP_ACT_TRACE' }, RET.trace + EPERM],
      [{ action: 'SCMP_ACT_TRACE', errnoRet: 7 }, RET.trace + 7],
      [{ action: 'SCMP_ACT_NOTIFY' }, RET.notify],
    ];
    for (const [rule, want] of cases) {
      const p = { ...allowBut({ names: ['mkdir'], ...rule }), listenerPath: '/run/agent.sock' };
      expect(verdict(p, NR.mkdir), JSON.stringify(rule)).toBe(want);
      expect(verdict(p, NR.getpid)).toBe(RET.allow);
    }
  });

  it('compares arguments with every operator, 64 bits wide', () => {
    const V = 0x1_0000_0005n;
    const at = (op: string, valueTwo?: number) => allowBut({ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: Number(V), op, ...(valueTwo === undefined ? {} : { valueTwo }) }] });
    const hits = (p: Profile) => [V - 1n, V, V + 1n, 5n].map((v) => verdict(p, NR.personality, [0n, v]) !== RET.allow);
    expect(hits(at('SCMP_CMP_EQ'))).toEqual([false, true, false, false]);
    expect(hits(at('SCMP_CMP_NE'))).toEqual([true, false, true, true]);
    expect(hits(at('SCMP_CMP_LT'))).toEqual([true, false, false, true]);
    expect(hits(at('SCMP_CMP_LE'))).toEqual([true, true, false, true]);
    expect(hits(at('SCMP_CMP_GT'))).toEqual([false, false, true, false]);
    expect(hits(at('SCMP_CMP_GE'))).toEqual([false, true, true, false]);
    // masked: (arg & value) == valueTwo
    const masked = allowBut({ names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x7e020000, valueTwo: 0x10000000, op: 'SCMP_CMP_MASKED_EQ' }] });
    expect(verdict(masked, NR.clone, [0x10000000n])).toBe(RET.errno(EPERM));
    expect(verdict(masked, NR.clone, [0x10000011n])).toBe(RET.errno(EPERM));
    expect(verdict(masked, NR.clone, [0x30000000n])).toBe(RET.allow);
    expect(verdict(masked, NR.clone, [0n])).toBe(RET.allow);
  });

  it('needs every condition on distinct arguments, and any one of several on the same argument (runc)', () => {
    const and = allowBut({ names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2, op: 'SCMP_CMP_EQ' }] });
    expect(verdict(and, NR.socket, [1n, 2n])).toBe(RET.errno(EPERM));
    expect(verdict(and, NR.socket, [1n, 3n])).toBe(RET.allow);
    const or = allowBut({ names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 2, op: 'SCMP_CMP_EQ' }] });
    expect(verdict(or, NR.socket, [1n])).toBe(RET.errno(EPERM));
    expect(verdict(or, NR.socket, [2n])).toBe(RET.errno(EPERM));
    expect(verdict(or, NR.socket, [3n])).toBe(RET.allow);
  });

  it('skips syscalls libseccomp does not know and rules that repeat the default action', () => {
    const p = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    const c = compileSeccomp(request(p));
    expect(c.skipped).toEqual(['no_such_syscall']);
    expect(verdict(p, NR.getpid)).toBe(RET.allow);
    expect(verdict(p, NR.mkdir)).toBe(RET.errno(EPERM));
  });

  it('answers ENOSYS past the last syscall the profile names, per arch and ABI', () => {
    const p = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [{ names: ['getpid', 'mkdir'], action: 'SCMP_ACT_ALLOW' }] };
    expect(verdict(p, NR.mkdir)).toBe(RET.allow);
    expect(verdict(p, 50)).toBe(RET.errno(EPERM));
    expect(verdict(p, NR.rmdir)).toBe(RET.errno(ENOSYS));
    expect(verdict(p, 1000)).toBe(RET.errno(ENOSYS));
    // x32 numbers carry bit 30; i386 has its own table (mkdir 39, getpid 20).
    expect(verdict(p, X32_BIT | NR.mkdir)).toBe(RET.allow);
    expect(verdict(p, X32_BIT | NR.rmdir)).toBe(RET.errno(ENOSYS));
    expect(verdict(p, X32_BIT | 50)).toBe(RET.errno(EPERM));
    expect(verdict(p, 39, [], I386)).toBe(RET.allow);
    expect(verdict(p, 38, [], I386)).toBe(RET.errno(EPERM));
    expect(verdict(p, 40, [], I386)).toBe(RET.errno(ENOSYS));
    // An arch the filter lacks is killed by libseccomp, stub or not.
    expect(verdict(p, 1, [], 0xc00000b7)).toBe(RET.killThread);
  });

  it('gives the native arch a stub without architectures, and none behind a permissive default', () => {
    const p = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid', 'mkdir'], action: 'SCMP_ACT_ALLOW' }] };
    expect(verdict(p, 1000)).toBe(RET.errno(ENOSYS));
    const permissive = allowBut({ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' });
    expect(verdict(permissive, 1000)).toBe(RET.allow);
    const log = { defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    expect(verdict(log, 1000)).toBe(RET.log);
  });

  it('compiles containerd\'s default and a docker-style profile of several hundred rules', () => {
    const ctrd = containerdDefault(['CAP_CHOWN', 'CAP_KILL', 'CAP_AUDIT_WRITE']);
    expect(verdict(ctrd, NR.getpid)).toBe(RET.allow);
    expect(verdict(ctrd, NR.unshare)).toBe(RET.errno(EPERM));
    expect(verdict(ctrd, NR.keyctl)).toBe(RET.errno(EPERM));
    expect(verdict(ctrd, NR.clone3)).toBe(RET.errno(ENOSYS));
    expect(verdict(ctrd, NR.clone, [0x20000000n])).toBe(RET.errno(EPERM));
    expect(verdict(ctrd, NR.clone, [0x11n])).toBe(RET.allow);
    const docker = dockerStyle();
    expect(docker.syscalls.length).toBeGreaterThan(300);
    expect(verdict(docker, NR.socket, [40n])).toBe(RET.errno(EPERM));
    expect(verdict(docker, NR.socket, [1n])).toBe(RET.allow);
    expect(verdict(docker, NR.mkdir)).toBe(RET.allow);
    expect(verdict(docker, 1000)).toBe(RET.errno(ENOSYS));
  });

  it('loads with the flags asked for, a listener for NOTIFY, and no TSYNC', () => {
    const flagged = compileSeccomp(request({ ...allowBut({ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }), flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }));
    expect(flagged.flags).toBe(FLAG_LOG);
    expect(flagged.listener).toBe(false);
    const notify = compileSeccomp(request({ ...allowBut({ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }), listenerPath: '/a', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }));
    expect(notify.flags).toBe(FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV);
    expect(notify.listener).toBe(true);
  });

  it('keeps compiled filters by profile', () => {
    const p = allowBut({ names: ['rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 });
    const first = compileSeccomp(request(p));
    const size = cachedFilters();
    expect(compileSeccomp(request(p))).toBe(first);
    expect(cachedFilters()).toBe(size);
    expect(compileSeccomp(request({ ...p, syscalls: [{ ...p.syscalls[0], errnoRet: 6 }] }))).not.toBe(first);
  });

  // libseccomp takes seconds over 4200 rules on a busy 2-core machine: the work is fixed, the time is not.
  it('refuses a filter longer than the kernel takes, naming the profile', { timeout: 60_000 }, () => {
    const values = Array.from({ length: 4200 }, (_, i) => ({ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: i * 7 + 1, op: 'SCMP_CMP_EQ' }] }));
    expect(() => compileSeccomp(request({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: values }))).toThrow(/^linux\.seccomp: the filter takes \d+ BPF instructions, more than the kernel's 4096$/);
  });
});

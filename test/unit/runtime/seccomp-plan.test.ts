// linux.seccomp judged before anything is created: each bad profile is refused with a
// message that names the field and the rule.
import { describe, expect, it } from 'vitest';
import { seccompListener, seccompRequest } from '../../../src/runtime/plan/seccomp.js';
import { configWithSeccomp, type Profile } from '../../helpers/seccomp-profiles.js';

const request = (s: Profile) => seccompRequest(configWithSeccomp(s).linux?.seccomp);
const mkdir = (rule: Profile): Profile => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', ...rule }] });

describe('linux.seccomp in the plan', () => {
  it('means no filter when there is neither a default action nor a rule, as in runc', () => {
    expect(request({ defaultAction: '' })).toBeNull();
    expect(() => request({ defaultAction: '', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] })).toThrow('linux.seccomp.defaultAction: unknown action ""');
  });

  it('turns names into libseccomp values', () => {
    const r = request({ ...mkdir({ errnoRet: 38, args: [{ index: 1, value: 2 ** 40, valueTwo: 3, op: 'SCMP_CMP_MASKED_EQ' }] }), architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'], flags: ['SECCOMP_FILTER_FLAG_LOG'] });
    expect(r).toEqual({
      defaultAction: 0x7fff0000,
      architectures: ['x86_64', 'x32'],
      flags: 2,
      label: 'linux.seccomp',
      rules: [{ names: ['mkdir', 'mkdirat'], action: 0x50026, args: [{ index: 1, op: 7, value: 2n ** 40n, valueTwo: 3n }], label: 'linux.seccomp.syscalls[0]' }],
    });
  });

  const refusals: Array<[string, Profile, string]> = [
    ['an unknown default action', { defaultAction: 'SCMP_ACT_FOO' }, 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_FOO"'],
    ['an unknown action', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO' }, { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_BAR' }] }, 'linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_BAR" (rule for mkdir, mkdirat)'],
    ['a bad operator', mkdir({ args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' }] }), 'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_XX" (rule for mkdir, mkdirat)'],
    ['an argument index past 5', mkdir({ args: [{ index: 1, value: 1, op: 'SCMP_CMP_EQ' }, { index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }), 'linux.seccomp.syscalls[0].args[1].index: 6 is out of range: syscalls have arguments 0 to 5 (rule for mkdir, mkdirat)'],
    ['errnoRet on an action without errno', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }, 'linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW returns no errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one (rule for getpid)'],
    ['defaultErrnoRet on a default without errno', { defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }, 'linux.seccomp.defaultErrnoRet: SCMP_ACT_KILL returns no errno'],
    ['a rule without names', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }, 'linux.seccomp.syscalls[0].names: must name at least one syscall'],
    ['an empty syscall name', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', ''], action: 'SCMP_ACT_ERRNO' }] }, 'linux.seccomp.syscalls[0].names[1]: must not be empty'],
    ['an unknown architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80'] }, 'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"'],
    ['an unknown flag', { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FAST'] }, 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FAST"'],
    ['NOTIFY without a listener', mkdir({ action: 'SCMP_ACT_NOTIFY' }), 'linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY in linux.seccomp.syscalls[0]'],
    ['NOTIFY on write', { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/a', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY cannot be used for the write syscall'],
    ['NOTIFY as the default', { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/a' }, 'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action'],
    ['metadata without a listener', { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }, 'linux.seccomp.listenerMetadata: must not be set without listenerPath'],
  ];
  for (const [what, profile, message] of refusals) {
    it(`refuses ${what}`, () => {
      expect(() => request(profile)).toThrow(message);
      try {
        request(profile);
      } catch (err) {
        expect((err as Error).name).toBe('InvalidArgument');
        expect((err as { field?: string }).field).toBe(message.slice(0, message.indexOf(':')));
      }
    });
  }

  it('finds the agent only when a rule notifies', () => {
    const notify = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', listenerMetadata: 'm', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    expect(seccompListener(configWithSeccomp(notify))).toEqual({ path: '/run/agent.sock', metadata: 'm' });
    expect(seccompListener(configWithSeccomp({ ...notify, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }))).toBeNull();
    expect(seccompListener(configWithSeccomp(undefined))).toBeNull();
  });
});

// The filter itself, runc's and ours: both read out of a running container with ptrace
// (probe seccomp-filter) and asked, through a BPF interpreter, for their verdict on every
// syscall number of every ABI of this machine, with argument values around each constant the
// profile compares against. The two programs need not be the same bytes (runc orders its
// -ENOSYS stub by Go map iteration), but they must answer the same.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Insn } from '../../src/seccomp/bpf.js';
import { TestBundle } from '../helpers/bundle.js';
import { runc, tsrun, type Result } from '../helpers/cli.js';
import { parseFilterDump, runFilter } from '../helpers/bpf-run.js';
import { repoRoot } from '../helpers/paths.js';
import { containerdDefault, dockerStyle, type Profile } from '../helpers/seccomp-profiles.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

const probeOnHost = path.join(repoRoot, 'build', 'Release', 'tsrun-probe');
const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const X32_BIT = 0x40000000;
const RET_ENOSYS = 0x50026;

async function filterOf(run: (args: string[]) => Promise<Result>, bundle: string, id: string): Promise<Insn[]> {
  const started = await run(['run', '-d', '--bundle', bundle, id]);
  expect(started.stderr).toBe('');
  try {
    const state = JSON.parse((await run(['state', id])).stdout) as { pid: number };
    return parseFilterDump(execFileSync(probeOnHost, ['seccomp-filter', String(state.pid)], { encoding: 'utf8' }));
  } finally {
    await run(['delete', '--force', id]);
  }
}

/** Argument vectors: nothing, everything, and each compared constant nudged either way. */
function argumentCases(profile: Profile): bigint[][] {
  const cases: bigint[][] = [[], Array<bigint>(6).fill(2n ** 64n - 1n)];
  for (const rule of profile.syscalls as Profile[]) {
    for (const a of (rule.args ?? []) as Profile[]) {
      const v = BigInt(a.value);
      const w = BigInt(a.valueTwo ?? 0);
      for (const x of [v, v - 1n, v + 1n, w, v | w, v | (1n << 32n), v & 0xffffn]) {
        const args = Array<bigint>(6).fill(0n);
        args[a.index as number] = BigInt.asUintN(64, x);
        cases.push(args);
      }
    }
  }
  return cases;
}

interface Difference {
  arch: number;
  nr: number;
  args: string;
  runc: number;
  tsrun: number;
}

function compare(a: Insn[], b: Insn[], profile: Profile): Difference[] {
  const nrs = [...Array.from({ length: 560 }, (_, i) => i), 1000, 0x3fffffff, 0xffffffff];
  const inputs: Array<[number, number]> = [];
  for (const nr of nrs) inputs.push([X86_64, nr], [I386, nr], [AARCH64, nr], [X86_64, (X32_BIT | nr) >>> 0]);
  const argCases = argumentCases(profile);
  const diffs: Difference[] = [];
  for (const [arch, nr] of inputs) {
    for (const args of argCases) {
      const ra = runFilter(a, { nr, arch, args });
      const rb = runFilter(b, { nr, arch, args });
      if (ra !== rb) diffs.push({ arch, nr, args: args.map(String).join(','), runc: ra, tsrun: rb });
    }
  }
  return diffs;
}

async function bothFilters(name: string, seccomp: Profile, noNewPrivileges = true): Promise<{ runc: Insn[]; tsrun: Insn[] }> {
  const b = new TestBundle(`filter-${name}`, ['/usr/local/bin/probe', 'sleep', '60']);
  bundles.push(b);
  b.edit((c) => {
    c.linux.seccomp = seccomp;
    c.process.noNewPrivileges = noNewPrivileges;
  });
  const viaRunc = await filterOf((args) => runc(path.join(b.dir, 'runc-state'), args), b.dir, b.id);
  const viaTsrun = await filterOf((args) => tsrun(b.root, args), b.dir, b.id);
  expect(viaRunc.length).toBeGreaterThan(0);
  expect(viaTsrun.length).toBeGreaterThan(0);
  return { runc: viaRunc, tsrun: viaTsrun };
}

const RUNC_SPEC_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

const profiles: Array<{ name: string; seccomp: Profile; noNewPrivileges?: boolean }> = [
  { name: 'containerd-default', seccomp: containerdDefault(RUNC_SPEC_CAPS) },
  { name: 'docker-style', seccomp: dockerStyle(), noNewPrivileges: false },
  {
    name: 'kill-default-x86_64-only',
    seccomp: { defaultAction: 'SCMP_ACT_KILL_PROCESS', architectures: ['SCMP_ARCH_X86_64'], syscalls: containerdDefault(RUNC_SPEC_CAPS).syscalls },
  },
  {
    name: 'arguments-and-actions',
    seccomp: {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['mkdir', 'rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 },
        { names: ['chmod'], action: 'SCMP_ACT_TRAP' },
        { names: ['chown'], action: 'SCMP_ACT_LOG' },
        { names: ['link'], action: 'SCMP_ACT_KILL' },
        { names: ['symlink'], action: 'SCMP_ACT_TRACE', errnoRet: 3 },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_GT' }] },
        { names: ['dup'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_LT' }] },
        { names: ['umask'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 18, op: 'SCMP_CMP_LE' }] },
        { names: ['getsid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 33 + 5, op: 'SCMP_CMP_GE' }] },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0, op: 'SCMP_CMP_NE' }] },
        { names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x7e020000, valueTwo: 0x20000, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 2, value: 2, op: 'SCMP_CMP_EQ' }] },
        { names: ['getpgid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 100, op: 'SCMP_CMP_EQ' }, { index: 0, value: 200, op: 'SCMP_CMP_EQ' }] },
        { names: ['not_a_syscall'], action: 'SCMP_ACT_ERRNO' },
      ],
    },
  },
];

describe('the seccomp filter answers as runc\'s does', () => {
  it.each(profiles)('$name', async ({ name, seccomp, noNewPrivileges }) => {
    const f = await bothFilters(name, seccomp, noNewPrivileges);
    expect(compare(f.runc, f.tsrun, seccomp).slice(0, 10)).toEqual([]);
  });

  it('differs from runc 1.1.5 only by the -ENOSYS stub runc >= 1.1.14 also gives a profile without architectures', async () => {
    const seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: containerdDefault(RUNC_SPEC_CAPS).syscalls };
    const f = await bothFilters('no-arches', seccomp);
    const diffs = compare(f.runc, f.tsrun, seccomp);
    // Past the newest syscall the profile names (futex_waitv, 449), native ABI only.
    expect(diffs.map((d) => d.nr)).toContain(1000);
    for (const d of diffs) {
      expect(d.arch).toBe(X86_64);
      expect(d.nr > 449 && d.nr < X32_BIT).toBe(true);
      expect(d.runc).toBe(0x50001);
      expect(d.tsrun).toBe(RET_ENOSYS);
    }
  });
});

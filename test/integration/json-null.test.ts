// JSON null as runc's Go decoder reads it: a member whose value is null is absent. A
// property test puts null in random members of a valid config.json and has runc 1.1.5 and
// tsrun create it: both must accept, or both refuse. Then the exec process file and update's
// resources, which Go programs also write with nulls.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle, type AnyConfig } from '../helpers/bundle.js';
import { errorOf, runc, tsrun, type Result, type RunOptions } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';

const RUNS = Number(process.env.NULL_FIELD_RUNS ?? 16);
const SEED = Number(process.env.FUZZ_SEED ?? 0x6e_756c6c);

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

function bundle(name: string, args: string[], edit: (c: AnyConfig) => void = () => undefined): TestBundle {
  const b = new TestBundle(name, args);
  bundles.push(b);
  return b.edit(edit);
}

/** runc spec's default config with most of what callers set: every member can be nulled. */
function richConfig(c: AnyConfig): void {
  c.hostname = 'nulls';
  c.process.user = { uid: 0, gid: 0, additionalGids: [10], umask: 0o22 };
  c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }];
  c.process.oomScoreAdj = 10;
  c.process.consoleSize = { height: 24, width: 80 };
  c.mounts.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] });
  c.linux.resources = {
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
    memory: { limit: 64 << 20, reservation: 32 << 20 },
    cpu: { shares: 512, quota: 50_000, period: 100_000 },
    pids: { limit: 100 },
  };
  c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['acct'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  c.linux.sysctl = { 'net.ipv4.ip_forward': '0' };
  c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
  c.annotations = { 'org.example/key': 'value' };
  c.hooks = { createRuntime: [{ path: '/bin/true', args: ['true'], env: ['A=b'], timeout: 10 }] };
}

type Path = (string | number)[];

/** Every member of every object in v, as a path from its top. */
function members(v: unknown, at: Path = []): Path[] {
  if (Array.isArray(v)) return v.flatMap((e, i) => members(e, [...at, i]));
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, e]) => [[...at, k], ...members(e, [...at, k])]);
}

/** Members nulled here only at the cost of something else than the comparison. */
const LEFT_ALONE = [
  // without it runc uses /<id> in every hierarchy, outside the tests' cgroup parent
  'linux.cgroupsPath',
  // Differences on purpose (the README's runc-compatibility section): tsrun refuses what the
  // spec requires and runc reads as Go's zero value. A config without a SemVer ociVersion;
  'ociVersion',
  // a device without a path, or a "c" or "b" device without major or minor (runc makes
  // a 0:N node);
  'linux.devices.0.path',
  'linux.devices.0.major',
  'linux.devices.0.minor',
  // a seccomp rule without names (the spec: "MUST contain at least one entry").
  'linux.seccomp.syscalls.0.names',
];

function setNull(c: AnyConfig, p: Path): void {
  let at: AnyConfig = c;
  for (const k of p.slice(0, -1)) at = at[k] as AnyConfig;
  at[p[p.length - 1] as string] = null;
}

async function creates(cli: (args: string[]) => Promise<Result>, b: TestBundle): Promise<{ ok: boolean; error: string }> {
  const r = await cli(['create', '--bundle', b.dir, b.id]);
  await cli(['delete', '--force', b.id]);
  return { ok: r.code === 0, error: r.code === 0 ? '' : errorOf(r) };
}

describe('null members of config.json', () => {
  it(`${RUNS} configs with null in random members: runc and tsrun both create, or both refuse`, { timeout: 600_000 }, async () => {
    const b = bundle('nulls', ['/bin/sleep', '1000'], richConfig);
    const base = JSON.stringify(b.config);
    const paths = members(b.config).filter((p) => !LEFT_ALONE.some((l) => p.join('.').startsWith(l)));
    // NULL_FIELD_EACH=1: every member nulled on its own, once, instead of random picks
    const picks = process.env.NULL_FIELD_EACH ? paths.map((_, i) => [i]) : fc.sample(fc.uniqueArray(fc.integer({ min: 0, max: paths.length - 1 }), { minLength: 1, maxLength: 3 }), { seed: SEED, numRuns: RUNS });
    const disagreements: string[] = [];
    for (const pick of picks) {
      b.config = JSON.parse(base) as AnyConfig;
      // nulling a parent first makes its members' paths unreachable: deepest first
      const nulled = pick.map((i) => paths[i] as Path).sort((x, y) => y.length - x.length);
      nulled.forEach((p) => setNull(b.config, p));
      b.write();
      const viaRunc = await creates((args) => runc(path.join(b.dir, 'runc-state'), args), b);
      const viaTsrun = await creates((args) => tsrun(b.root, args), b);
      if (viaRunc.ok !== viaTsrun.ok) {
        disagreements.push(`${nulled.map((p) => p.join('.')).join(', ')}: runc ${viaRunc.ok ? 'creates' : `refuses (${viaRunc.error})`}, tsrun ${viaTsrun.ok ? 'creates' : `refuses (${viaTsrun.error})`}`);
      }
      expect(leftoverCgroups(b.id)).toEqual([]);
      expect(leftoverMounts(path.join(b.dir, 'rootfs'))).toEqual([]);
    }
    expect(disagreements).toEqual([]);
  });

  it('hostname null is no hostname, as in runc', async () => {
    const b = bundle('null-hostname', ['/bin/hostname'], (c) => (c.hostname = null));
    const viaRunc = await runc(path.join(b.dir, 'runc-state'), ['run', '--bundle', b.dir, b.id]);
    const viaTsrun = await tsrun(b.root, ['run', '--bundle', b.dir, `${b.id}-ts`]);
    expect(viaTsrun).toEqual(viaRunc);
    expect(viaTsrun.code).toBe(0);
  });
});

describe('null members of what exec and update read', () => {
  it('a process file with nulls and without user runs as 0:0, as in runc', async () => {
    const b = bundle('null-exec', ['/bin/sleep', '1000']);
    const processFile = path.join(b.dir, 'process.json');
    writeFileSync(processFile, JSON.stringify({ args: ['/bin/sh', '-c', 'id; echo "$HOME"'], cwd: '/', env: ['PATH=/bin'], terminal: null, capabilities: null, rlimits: null, apparmorProfile: null }));
    const outputs: Array<Pick<Result, 'code' | 'stdout' | 'stderr'>> = [];
    for (const cli of [(args: string[]) => runc(path.join(b.dir, 'runc-state'), args), (args: string[]) => tsrun(b.root, args)]) {
      expect((await cli(['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
      try {
        const r = await cli(['exec', '-p', processFile, b.id]);
        outputs.push({ code: r.code, stdout: r.stdout, stderr: r.stderr });
      } finally {
        await cli(['delete', '--force', b.id]);
      }
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[1]).toEqual({ code: 0, stdout: 'uid=0(root) gid=0(root)\n/root\n', stderr: '' });
    expect(leftoverCgroups(b.id)).toEqual([]);
  });

  it('update -r with null members changes only what is given, as in runc', async () => {
    const b = bundle('null-update', ['/bin/sleep', '1000'], (c) => (c.linux.resources = { pids: { limit: 50 }, memory: { limit: 64 << 20 } }));
    // (runc 1.1.5 panics on a null memory, cpu, blockIO or pids, or on a null number in them:
    // it dereferences what the null left nil. tsrun reads them as not given, unit-tested.)
    const resources = JSON.stringify({ cpu: { shares: 256, cpus: null, mems: null }, pids: { limit: 60 }, devices: null, hugepageLimits: null, network: null, rdma: null, unified: null });
    const views: string[][] = [];
    for (const cli of [(args: string[], o?: RunOptions) => runc(path.join(b.dir, 'runc-state'), args, o), (args: string[], o?: RunOptions) => tsrun(b.root, args, o)]) {
      expect((await cli(['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
      try {
        const r = await cli(['update', '-r', '-', b.id], { input: resources });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const cat = await cli(['exec', b.id, 'cat', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/cpu/cpu.shares', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
        views.push(cat.stdout.trim().split('\n'));
      } finally {
        await cli(['delete', '--force', b.id]);
      }
    }
    expect(views[1]).toEqual(views[0]);
    expect(views[1]).toEqual(['60', '256', String(64 << 20)]);
    expect(leftoverCgroups(b.id)).toEqual([]);
  });
});

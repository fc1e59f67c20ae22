// What a 300-rule seccomp profile costs, next to runc 1.1.5:
//
// 1. tsrun's compile alone, in-process, the cache bypassed.
// 2. `run` of a container through tsrun's runtime library in one Node process (as the shim
//    runs containers): without the profile, with it compiled anew each time (a dummy
//    syscall name makes every profile new to the cache), and with it from the cache. No
//    Node start-up in the numbers, so the differences are the profile's own cost: compile,
//    hand-over in the plan, and load in tsrun-init.
// 3. The `run` command of each runtime, with and without the profile. runc compiles and
//    loads inside `runc init`, so only the difference compares; tsrun's CLI adds a Node
//    start-up whose jitter is larger than the profile's cost, hence (2).
//
// Run as root: npm run bench:seccomp
//   (builds dist/ (and the CLI bundle) and bench/, then runs .cache/bench/bench/seccomp.js).
//   Environment: BENCH_RUNS (runs per variant, default 15).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ofRules, type Profile } from '../test/helpers/seccomp-profiles.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const RULES = 300;

// Compiled into .cache/bench/bench/: the repository is three levels up.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tsrunBin = path.join(repo, 'bin', 'tsrun');
const rootfsFixture = path.join(repo, '.cache', 'fixtures', 'busybox', 'rootfs');

interface Runtime {
  compileSeccomp(req: unknown): { bpf: Buffer };
  seccompRequest(s: unknown): ({ label: string } & Record<string, unknown>) | null;
  run(store: unknown, opts: { id: string; bundle: string; stdio: [number, number, number] }): Promise<number>;
  StateStore: new (root: string) => unknown;
}

/** dist/ finds the addon from where it sits; the bench's own copy of src/ would not. */
async function runtimeFromDist(): Promise<Runtime> {
  const load = async (file: string): Promise<Record<string, unknown>> => (await import(path.join(repo, 'dist', file))) as Record<string, unknown>;
  return {
    ...(await load('seccomp/compile.js')),
    ...(await load('runtime/plan/seccomp.js')),
    ...(await load('runtime/run.js')),
    ...(await load('runtime/state-store.js')),
  } as unknown as Runtime;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
// On a busy machine the fastest run is the steadier estimate of what the work itself costs.
const fastest = (xs: number[]): number => Math.min(...xs);

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** The profile as the OCI schema hands it over: argument values as bigints. */
function asParsed(p: Profile): unknown {
  return {
    ...p,
    syscalls: (p.syscalls as Profile[]).map((s) => ({
      ...s,
      args: (s.args as Profile[] | undefined)?.map((a) => ({ ...a, value: BigInt(a.value), valueTwo: a.valueTwo === undefined ? undefined : BigInt(a.valueTwo) })),
    })),
  };
}

function benchCompile(rt: Runtime, profile: Profile): { times: number[]; instructions: number } {
  const req = rt.seccompRequest(asParsed(profile));
  if (!req) throw new Error('the profile asks for no filter');
  const times: number[] = [];
  let instructions = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    // A label of its own makes each request new to the cache.
    const t0 = process.hrtime.bigint();
    instructions = rt.compileSeccomp({ ...req, label: `bench-${i}` }).bpf.length / 8;
    if (i >= 3) times.push(ms(t0));
  }
  return { times, instructions };
}

function makeBundle(dir: string, name: string, seccomp: Profile | undefined): string {
  const bundle = path.join(dir, name);
  mkdirSync(bundle);
  execFileSync('cp', ['-a', rootfsFixture, path.join(bundle, 'rootfs')]);
  execFileSync(process.execPath, [tsrunBin, 'spec', '-b', bundle]);
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  config.process.terminal = false;
  config.process.args = ['/usr/local/bin/probe', 'exit', '0'];
  config.linux.cgroupsPath = `/tsrun-test/bench-${process.pid}-${name}`;
  if (seccomp) config.linux.seccomp = seccomp;
  writeFileSync(file, JSON.stringify(config));
  return bundle;
}

let serial = 0;
const nextId = (): string => `bench-${process.pid}-${serial++}`;

function timeCli(cmd: readonly string[], root: string, bundle: string, count: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd[0] as string, [...cmd.slice(1), '--root', root, 'run', '--bundle', bundle, nextId()], { stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(ms(t0));
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} run failed (${r.status}): ${r.stderr.toString()}`);
  }
  return times;
}

async function timeLibrary(rt: Runtime, root: string, bundle: string, count: number, before?: () => void): Promise<number[]> {
  const store = new rt.StateStore(root);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    before?.();
    const t0 = process.hrtime.bigint();
    const code = await rt.run(store, { id: nextId(), bundle, stdio: [-1, -1, -1] });
    times.push(ms(t0));
    if (code !== 0) throw new Error(`run exited with ${code}`);
  }
  return times;
}

/** Rounds of each variant in turn, so that drift on the machine hits all alike. */
async function interleaved(variants: Array<(n: number) => Promise<number[]> | number[]>): Promise<number[][]> {
  const out = variants.map(() => [] as number[]);
  for (const v of variants) await v(2);
  for (let round = 0; round < 3; round++) {
    for (const [i, v] of variants.entries()) out[i]?.push(...(await v(Math.ceil(RUNS / 3))));
  }
  return out;
}

function row(name: string, base: number[], other: number[]): string {
  const cells = [median, fastest].map((f) => `${f(other).toFixed(1)} (${(f(other) - f(base)).toFixed(1)})`);
  return `| ${name} | ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark runs containers: run it as root');
  if (!existsSync(rootfsFixture)) throw new Error(`${rootfsFixture} is missing: run scripts/setup.sh first`);
  const rt = await runtimeFromDist();
  const profile = ofRules(RULES);
  const compile = benchCompile(rt, profile);

  const dir = mkdtempSync(path.join(tmpdir(), 'tsrun-bench-seccomp-'));
  try {
    const plain = makeBundle(dir, 'plain', undefined);
    const filtered = makeBundle(dir, 'filtered', profile);
    const fresh = makeBundle(dir, 'fresh', profile);
    const freshConfig = path.join(fresh, 'config.json');
    const freshText = readFileSync(freshConfig, 'utf8');
    // A syscall no libseccomp knows: skipped, but it makes the profile new to the cache.
    const renew = (): void => writeFileSync(freshConfig, freshText.replace('"syscalls":[', `"syscalls":[{"names":["bench_${serial}"],"action":"SCMP_ACT_ALLOW"},`));

    const libRoot = path.join(dir, 'lib-state');
    const [lPlain, lFresh, lCached] = await interleaved([
      (n) => timeLibrary(rt, libRoot, plain, n),
      (n) => timeLibrary(rt, libRoot, fresh, n, renew),
      (n) => timeLibrary(rt, libRoot, filtered, n),
    ]);
    const cli: Array<[string, number[], number[]]> = [];
    for (const [name, cmd] of [
      ['tsrun', [process.execPath, tsrunBin]],
      ['runc 1.1.5', ['runc']],
    ] as const) {
      const root = path.join(dir, `${name.split(' ')[0]}-state`);
      const [a, b] = await interleaved([(n) => timeCli(cmd, root, plain, n), (n) => timeCli(cmd, root, filtered, n)]);
      cli.push([name, a ?? [], b ?? []]);
    }

    console.log(`${RULES}-rule docker-style profile (${compile.instructions} BPF instructions with tsrun), ${RUNS} runs per variant, node ${process.version}\n`);
    console.log(`tsrun compile alone (in-process, uncached): median ${median(compile.times).toFixed(2)} ms, fastest ${fastest(compile.times).toFixed(2)} ms\n`);
    console.log('`run` of a container, ms; in brackets what the profile adds');
    console.log('');
    console.log('| variant | median | fastest |');
    console.log('|---|---:|---:|');
    console.log(`| tsrun library, no profile | ${median(lPlain ?? []).toFixed(1)} | ${fastest(lPlain ?? []).toFixed(1)} |`);
    console.log(row('tsrun library, profile compiled anew', lPlain ?? [], lFresh ?? []));
    console.log(row('tsrun library, profile from the cache (the shim)', lPlain ?? [], lCached ?? []));
    for (const [name, a, b] of cli) {
      console.log(`| ${name} CLI, no profile | ${median(a).toFixed(1)} | ${fastest(a).toFixed(1)} |`);
      console.log(row(`${name} CLI, profile`, a, b));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // The parent the runs' cgroups were made under, where it is empty now.
    for (const h of readdirSync('/sys/fs/cgroup')) spawnSync('rmdir', [path.join('/sys/fs/cgroup', h, 'tsrun-test')], { stdio: 'ignore' });
  }
}

await main();

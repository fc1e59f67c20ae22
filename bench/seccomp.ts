// What a 300-rule seccomp profile costs: tsrun's compile on its own (in-process, cache
// bypassed), and for tsrun and runc the whole `run` of a container with and without the
// profile, the difference of the medians being the profile's price (compile, hand-over and
// load: runc compiles and loads inside `runc init`, so only the difference compares).
//
// Run as root: npm run bench:seccomp
//   (builds dist/ and bench/ with tsc, then runs .cache/bench/bench/seccomp.js with node).
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

interface CompileModules {
  compileSeccomp(req: unknown): { bpf: Buffer };
  seccompRequest(s: unknown): ({ label: string } & Record<string, unknown>) | null;
}

/** dist/ finds the addon from where it sits; the bench's own copy of src/ would not. */
async function compilerFromDist(): Promise<CompileModules> {
  const compile = (await import(path.join(repo, 'dist', 'seccomp', 'compile.js'))) as Pick<CompileModules, 'compileSeccomp'>;
  const plan = (await import(path.join(repo, 'dist', 'runtime', 'plan', 'seccomp.js'))) as Pick<CompileModules, 'seccompRequest'>;
  return { ...compile, ...plan };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

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

async function benchCompile(profile: Profile): Promise<{ median: number; instructions: number }> {
  const { compileSeccomp, seccompRequest } = await compilerFromDist();
  const req = seccompRequest(asParsed(profile));
  if (!req) throw new Error('the profile asks for no filter');
  const times: number[] = [];
  let instructions = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    // A label of its own makes each request new to the cache.
    const t0 = process.hrtime.bigint();
    instructions = compileSeccomp({ ...req, label: `bench-${i}` }).bpf.length / 8;
    if (i >= 3) times.push(ms(t0));
  }
  return { median: median(times), instructions };
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

function timeRuns(cmd: readonly string[], root: string, bundle: string, count: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd[0] as string, [...cmd.slice(1), '--root', root, 'run', '--bundle', bundle, `bench-${process.pid}-${serial++}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(ms(t0));
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} run failed (${r.status}): ${r.stderr.toString()}`);
  }
  return times;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark runs containers: run it as root');
  if (!existsSync(rootfsFixture)) throw new Error(`${rootfsFixture} is missing: run scripts/setup.sh first`);
  const profile = ofRules(RULES);
  const compile = await benchCompile(profile);

  const dir = mkdtempSync(path.join(tmpdir(), 'tsrun-bench-seccomp-'));
  try {
    const plain = makeBundle(dir, 'plain', undefined);
    const filtered = makeBundle(dir, 'filtered', profile);
    const rows: Array<[string, number, number]> = [];
    for (const [name, cmd] of [
      ['tsrun', [process.execPath, tsrunBin]],
      ['runc 1.1.5', ['runc']],
    ] as const) {
      const root = path.join(dir, `${name.split(' ')[0]}-state`);
      timeRuns(cmd, root, plain, 2);
      timeRuns(cmd, root, filtered, 2);
      // Interleaved rounds, so that drift on the machine hits both variants alike.
      const without: number[] = [];
      const withProfile: number[] = [];
      for (let round = 0; round < 3; round++) {
        without.push(...timeRuns(cmd, root, plain, Math.ceil(RUNS / 3)));
        withProfile.push(...timeRuns(cmd, root, filtered, Math.ceil(RUNS / 3)));
      }
      rows.push([name, median(without), median(withProfile)]);
    }

    console.log(`${RULES}-rule docker-style profile (${compile.instructions} BPF instructions with tsrun), ${RUNS} runs per variant, node ${process.version}\n`);
    console.log(`tsrun compile in-process, uncached (libseccomp + -ENOSYS stub): median ${compile.median.toFixed(2)} ms\n`);
    console.log('| runtime | `run` without profile, median ms | with the profile, median ms | the profile costs, ms |');
    console.log('|---|---:|---:|---:|');
    for (const [name, a, b] of rows) console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b - a).toFixed(1)} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // The parent the runs' cgroups were made under, where it is empty now.
    for (const h of readdirSync('/sys/fs/cgroup')) spawnSync('rmdir', [path.join('/sys/fs/cgroup', h, 'tsrun-test')], { stdio: 'ignore' });
  }
}

await main();

// What a 300-rule seccomp profile costs, next to runc 1.1.5:
//
// 1. tsrun's compile alone, in-process, the cache bypassed.
// 2. `run` of a container through tsrun's runtime library in one Node process (as the shim
//    runs containers): without the profile, with it compiled anew each time (a dummy
//    syscall name makes every profile new to the cache), and with it from the cache. No
//    Node start-up in the numbers, so the differences are the profile's own cost: compile,
//    hand-over in the plan, and load in tsrun-init.
// 3. The `run` command of each runtime, with and without the profile. runc compiles and
//    loads inside `runc init`, so only the difference compares.
//
// Run as root: npm run bench:seccomp
//   (builds dist/ (and the CLI bundle) and bench/, then runs .cache/bench/bench/seccomp.js).
//   Environment: BENCH_RUNS (runs per case, default 15).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ofRules, type Profile } from '../test/helpers/seccomp-profiles.js';
import { fmt, interleaved, machine, table, type Section, type Stats } from './lib.js';
import { Shell } from './shell.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const RULES = 300;

// Compiled into .cache/bench/bench/: the repository is three levels up.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tsrunBin = path.join(repo, 'bin', 'tsrun');
const rootfsFixture = path.join(repo, '.cache', 'fixtures', 'busybox', 'rootfs');

interface Runtime {
  compileSeccomp(req: unknown): { bpf: Buffer };
  seccompRequest(s: unknown): ({ label: string } & Record<string, unknown>) | null;
  Runtime: typeof import('../src/api/index.js').Runtime;
}

/** dist/ finds the addon from where it sits; the bench's own copy of src/ would not. */
async function runtimeFromDist(): Promise<Runtime> {
  const load = async (file: string): Promise<Record<string, unknown>> => (await import(path.join(repo, 'dist', file))) as Record<string, unknown>;
  return {
    ...(await load('seccomp/compile.js')),
    ...(await load('runtime/plan/seccomp.js')),
    ...(await load('api/index.js')),
  } as unknown as Runtime;
}

const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

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

function makeBundle(dir: string, name: string, seccomp: Profile | undefined): string {
  const bundle = path.join(dir, name);
  mkdirSync(bundle);
  execFileSync('cp', ['-a', rootfsFixture, path.join(bundle, 'rootfs')]);
  execFileSync(tsrunBin, ['spec', '-b', bundle]);
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

function added(base: Stats | undefined, other: Stats | undefined): string {
  if (!base || !other) return '';
  return `| ${other.name} | ${fmt(other.median - base.median)} | ${fmt(other.min - base.min)} |`;
}

/** The run's tables as markdown, and the profile's cost for the summary (section (f) of npm run bench). */
export async function seccompSection(shell: Shell, runs: number): Promise<Section> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark runs containers: run it as root');
  if (!existsSync(rootfsFixture)) throw new Error(`${rootfsFixture} is missing: run scripts/setup.sh first`);
  const rt = await runtimeFromDist();
  const profile = ofRules(RULES);
  const req = rt.seccompRequest(asParsed(profile));
  if (!req) throw new Error('the profile asks for no filter');
  const instructions = rt.compileSeccomp(req).bpf.length / 8;

  const dir = mkdtempSync(path.join(tmpdir(), 'tsrun-bench-seccomp-'));
  try {
    const plain = makeBundle(dir, 'plain', undefined);
    const filtered = makeBundle(dir, 'filtered', profile);
    const fresh = makeBundle(dir, 'fresh', profile);
    const freshConfig = path.join(fresh, 'config.json');
    const freshText = readFileSync(freshConfig, 'utf8');
    const lib = new rt.Runtime({ root: path.join(dir, 'lib-state') });
    const runLibrary = async (bundle: string): Promise<number> => {
      const t0 = process.hrtime.bigint();
      const c = await lib.run(nextId(), { bundle, stdio: 'ignore' });
      const { exitCode } = await c.wait();
      await c.delete();
      if (exitCode !== 0) throw new Error(`run exited with ${exitCode}`);
      return since(t0);
    };
    const cli = (cmd: string, bundle: string) => () => shell.time([cmd, '--root', path.join(dir, `${path.basename(cmd)}-state`), 'run', '--bundle', bundle, nextId()]);
    const tsrunCli = tsrunBin;

    const rows = await interleaved(
      [
        {
          name: 'compile alone, uncached',
          // A label of its own makes each request new to the cache.
          once: () => {
            const t0 = process.hrtime.bigint();
            rt.compileSeccomp({ ...req, label: `bench-${serial++}` });
            return since(t0);
          },
        },
        { name: 'tsrun library run, no profile', once: () => runLibrary(plain) },
        {
          name: 'tsrun library run, profile compiled anew',
          // A syscall no libseccomp knows: skipped, but it makes the profile new to the cache.
          once: () => {
            writeFileSync(freshConfig, freshText.replace('"syscalls":[', `"syscalls":[{"names":["bench_${serial}"],"action":"SCMP_ACT_ALLOW"},`));
            return runLibrary(fresh);
          },
        },
        { name: 'tsrun library run, profile cached (the shim)', once: () => runLibrary(filtered) },
        { name: 'tsrun CLI run, no profile', once: cli(tsrunCli, plain) },
        { name: 'tsrun CLI run, profile', once: cli(tsrunCli, filtered) },
        { name: 'runc 1.1.5 CLI run, no profile', once: cli('runc', plain) },
        { name: 'runc 1.1.5 CLI run, profile', once: cli('runc', filtered) },
      ],
      runs,
    );
    const [, libPlain, libFresh, libCached, tsPlain, tsProfile, runcPlain, runcProfile] = rows;
    const text = [
      `### (f) seccomp: a ${RULES}-rule docker-style profile (${instructions} BPF instructions with tsrun)`,
      '',
      table(rows),
      '',
      'what the profile adds, ms',
      '',
      '| case | by median | by min |',
      '|---|---:|---:|',
      ...[added(libPlain, libFresh), added(libPlain, libCached), added(tsPlain, tsProfile), added(runcPlain, runcProfile)],
    ].join('\n');
    return {
      text,
      ratios: [
        { section: '(f)', measure: `run with a ${RULES}-rule profile compiled anew: the shim's runtime (in-process) vs \`runc run\``, ours: libFresh?.median ?? 0, theirs: runcProfile?.median ?? 0, unit: 'ms' },
        { section: '(f)', measure: 'the same profile from the cache (the shim\'s usual case) vs `runc run`', ours: libCached?.median ?? 0, theirs: runcProfile?.median ?? 0, unit: 'ms' },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // The parent the runs' cgroups were made under, where it is empty now.
    for (const h of readdirSync('/sys/fs/cgroup')) spawnSync('rmdir', [path.join('/sys/fs/cgroup', h, 'tsrun-test')], { stdio: 'ignore' });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const shell = new Shell();
  const { text } = await seccompSection(shell, RUNS).finally(() => shell.close());
  console.log(`${RUNS} runs per case; ${machine()}\n`);
  console.log(text);
}

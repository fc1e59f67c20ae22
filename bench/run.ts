// npm run bench: tsrun next to runc (and crun), every section in one run, each section's
// cases interleaved round by round, as medians with min and max; one table of ratios against
// the targets of issue 09, written to bench/RESULTS.md with the date, the machine and its
// load (other work on a shared machine shows in the numbers; the load says how much).
//
//   (a) ctr run --rm, ts vs runc shim        (b) 20 of them side by side
//   (c) ctr task exec latency                (d) tsrun run vs runc run vs crun run, node -e 0
//   (e) shim PSS, 1 and 10 containers: default, namespace grouping, a process per group
//   (f) seccomp compile + load, ttrpc round trips
//   (g) podman run --rm, --runtime tsrun vs runc   (h) ctr run --rm via runc's shim, --runc-binary tsrun vs runc
//   (i) docker run --rm, --runtime tsrun vs runc
//   (j) the library: containers run, waited for, deleted in-process vs spawning runc (and crun)
//   (k) a brain replaced under a running container: its SIGKILL to the first answered request
//   (x) bench/shell-check.sh: the rows of (a), (d), (g), (h) timed from bash alone, beside ours
//
// Every timed command runs from one bash the bench drives (bench/shell.ts), as from a user's
// shell; bench/README.md says why and how bench/shell-check.sh checks it from bash alone.
// Run as root, under a subreaper (npm run bench uses tini -s: shim servers outlive the
// launcher that started them, and this machine's init does not reap; where init reaps, as
// systemd does, a shell's orphans go there). Environment: BENCH_ROUNDS (default 20; (b)
// runs a fifth of them, (e) and the seccomp cases their own share), BENCH_LIBRARY_CONTAINERS
// (default 50: (j)'s containers of each case), BENCH_SECTIONS (e.g.
// "ad" to run only some), BENCH_LOAD (n CPU-bound processes beside the whole run, for the
// ratios under load).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/package.js';
import { startShimContainerd, type ShimContainerd } from '../test/helpers/shim-containerd.js';
import { cliSection } from './cli.js';
import { librarySection } from './library.js';
import { load, machine, ratioTable, type Section } from './lib.js';
import { failoverSection } from './failover.js';
import { memorySection } from './memory.js';
import { seccompSection } from './seccomp.js';
import { Shell } from './shell.js';
import { shimSection } from './shim.js';
import { cliPathSection } from './cli-path.js';
import { crossCheckSection } from './cross-check.js';
import { ttrpcSection } from './ttrpc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const WANTED = process.env.BENCH_SECTIONS ?? 'abcdefghijkx';
const LIBRARY_CONTAINERS = Number(process.env.BENCH_LIBRARY_CONTAINERS ?? 50);
if (!(ROUNDS >= 1)) throw new Error(`BENCH_ROUNDS must be a positive number, not ${process.env.BENCH_ROUNDS}`);
if (!(LIBRARY_CONTAINERS >= 1)) throw new Error(`BENCH_LIBRARY_CONTAINERS must be a positive number, not ${process.env.BENCH_LIBRARY_CONTAINERS}`);
if (process.getuid?.() !== 0) throw new Error('the benchmark runs containers: run it as root');

const LOAD = Number(process.env.BENCH_LOAD ?? 0);
// Busy loops in the bench's shell's environment, for as long as the bench runs.
const burners = Array.from({ length: LOAD }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
const stopBurners = (): void => {
  for (const b of burners) b.kill('SIGKILL');
};
process.once('exit', stopBurners);

const loadBefore = load();
const started = Date.now();
const sections: Section[] = [];
const envs: ShimContainerd[] = [];
const shell = new Shell();
try {
  const wants = (s: string): boolean => WANTED.includes(s);
  if (wants('a') || wants('b') || wants('c') || wants('e') || wants('g') || wants('h') || wants('i')) {
    const shim = await startShimContainerd();
    envs.push(shim);
    if (wants('a') || wants('b') || wants('c')) sections.push(await shimSection(shim, shell, ROUNDS));
    if (wants('g') || wants('h') || wants('i')) sections.push(await cliPathSection(shim, shell, ROUNDS));
    if (wants('e')) {
      const grouped = await startShimContainerd({ shimEnv: { TSRUN_SHIM_GROUPING: 'namespace' } });
      envs.push(grouped);
      const unhosted = await startShimContainerd({ shimEnv: { TSRUN_SHIM_HOST: '0' } });
      envs.push(unhosted);
      const modes = [{ name: 'default', shim }, { name: 'namespace', shim: grouped }, { name: 'process per group', shim: unhosted }];
      sections.push(await memorySection(modes, Math.max(2, Math.round(ROUNDS / 7))));
    }
  }
  if (wants('k')) {
    const noSpare = await startShimContainerd({ shimEnv: { TSRUN_SHIM_SPARE: '0' } });
    envs.push(noSpare);
    const shim = envs[0] ?? (await startShimContainerd());
    if (!envs.includes(shim)) envs.push(shim);
    const modes = [
      { name: 'a spare waiting', shim, spare: true },
      { name: 'no spare (a Node start)', shim: noSpare, spare: false },
    ];
    sections.push(await failoverSection(modes, Math.max(3, Math.round(ROUNDS / 2))));
  }
  if (wants('d')) sections.push(await cliSection(shell, ROUNDS));
  if (wants('j')) sections.push(await librarySection(LIBRARY_CONTAINERS));
  if (wants('f')) {
    sections.push(await seccompSection(shell, Math.max(5, Math.round(ROUNDS / 2))));
    sections.push(await ttrpcSection(Math.min(20_000, ROUNDS * 500)));
  }
} finally {
  shell.close();
  for (const e of envs) await e.stop();
}
// After every containerd of the bench is gone: the cross-check starts its own.
try {
  if (WANTED.includes('x')) sections.push(crossCheckSection(sections.flatMap((s) => s.rows ?? []), ROUNDS));
} finally {
  stopBurners();
}

const report = [
  '# Benchmarks',
  '',
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${machine()}; ${ROUNDS} rounds, interleaved; ` +
    `${Math.round((Date.now() - started) / 1000)} s in all${LOAD ? `, with ${LOAD} CPU-bound processes beside (BENCH_LOAD)` : ''}. Load average (1, 5, 15 min) before: ${loadBefore}; after: ${load()}.`,
  '',
  'Reproduce: `npm run bench` as root (BENCH_ROUNDS=n for more or fewer rounds). Medians; ratio = tsrun / reference.',
  '',
  ratioTable(sections.flatMap((s) => s.ratios)),
  '',
  ...sections.map((s) => `${s.text}\n`),
].join('\n');
// A run under load goes beside the quiet one, not over it.
writeFileSync(path.join(packageRoot, LOAD ? 'bench/RESULTS-loaded.md' : 'bench/RESULTS.md'), report);
process.stdout.write(report);

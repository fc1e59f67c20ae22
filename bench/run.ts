// npm run bench: tsrun next to runc (and crun), every section in one run, each section's
// cases interleaved round by round, as medians with min and max; one table of ratios against
// the targets of issue 09, written to bench/RESULTS.md with the date, the machine and its
// load (other work on a shared machine shows in the numbers; the load says how much).
//
//   (a) ctr run --rm, ts vs runc shim        (b) 20 of them side by side
//   (c) ctr task exec latency                (d) tsrun run vs runc run vs crun run, node -e 0
//   (e) shim PSS, 1 and 10 containers: default, namespace grouping, a process per group
//   (f) seccomp compile + load, ttrpc round trips
//
// Run as root, under a subreaper (npm run bench uses tini -s: shim servers outlive the
// launcher that started them, and this machine's init does not reap). Environment: BENCH_ROUNDS (default 20; (b) runs a fifth of them, (e) and the
// seccomp cases their own share), BENCH_SECTIONS (e.g. "ad" to run only some).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/native/addon.js';
import { startShimContainerd, type ShimContainerd } from '../test/helpers/shim-containerd.js';
import { cliSection } from './cli.js';
import { load, machine, ratioTable, type Section } from './lib.js';
import { memorySection } from './memory.js';
import { seccompSection } from './seccomp.js';
import { shimSection } from './shim.js';
import { ttrpcSection } from './ttrpc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const WANTED = process.env.BENCH_SECTIONS ?? 'abcdef';
if (!(ROUNDS >= 1)) throw new Error(`BENCH_ROUNDS must be a positive number, not ${process.env.BENCH_ROUNDS}`);
if (process.getuid?.() !== 0) throw new Error('the benchmark runs containers: run it as root');

const loadBefore = load();
const started = Date.now();
const sections: Section[] = [];
const envs: ShimContainerd[] = [];
try {
  const wants = (s: string): boolean => WANTED.includes(s);
  if (wants('a') || wants('b') || wants('c') || wants('e')) {
    const shim = await startShimContainerd();
    envs.push(shim);
    if (wants('a') || wants('b') || wants('c')) sections.push(await shimSection(shim, ROUNDS));
    if (wants('e')) {
      const grouped = await startShimContainerd({ shimEnv: { TSRUN_SHIM_GROUPING: 'namespace' } });
      envs.push(grouped);
      const unhosted = await startShimContainerd({ shimEnv: { TSRUN_SHIM_HOST: '0' } });
      envs.push(unhosted);
      const modes = [{ name: 'default', shim }, { name: 'namespace', shim: grouped }, { name: 'process per group', shim: unhosted }];
      sections.push(await memorySection(modes, Math.max(2, Math.round(ROUNDS / 7))));
    }
  }
  if (wants('d')) sections.push(await cliSection(ROUNDS));
  if (wants('f')) {
    sections.push(await seccompSection(Math.max(5, Math.round(ROUNDS / 2))));
    sections.push(await ttrpcSection(Math.min(20_000, ROUNDS * 500)));
  }
} finally {
  for (const e of envs) await e.stop();
}

const report = [
  '# Benchmarks',
  '',
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${machine()}; ${ROUNDS} rounds, interleaved; ` +
    `${Math.round((Date.now() - started) / 1000)} s in all. Load average (1, 5, 15 min) before: ${loadBefore}; after: ${load()}.`,
  '',
  'Reproduce: `npm run bench` as root (BENCH_ROUNDS=n for more or fewer rounds). Medians; ratio = tsrun / reference.',
  '',
  ratioTable(sections.flatMap((s) => s.ratios)),
  '',
  ...sections.map((s) => `${s.text}\n`),
].join('\n');
writeFileSync(path.join(packageRoot, 'bench/RESULTS.md'), report);
process.stdout.write(report);

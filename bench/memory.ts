// (e) Shim memory: the total PSS (Pss of /proc/<pid>/smaps_rollup, summed) of every shim
// process serving 1 and 10 running containers. Ours: the Node servers (the launcher has
// exited) and an idle spare server if one is waiting; runc's: its containerd-shim-runc-v2
// processes, one per container. Ours in each mode: default (a group and socket per
// container, every group of the namespace served by one host process), namespace grouping
// (one group and socket for the namespace), and, for comparison, a process per group
// (TSRUN_SHIM_HOST=0). Targets for 10 containers: default <= 3 × runc's, namespace <= 0.5 ×.
import { readFileSync } from 'node:fs';
import { IMAGE, NAMESPACE, processesMatching, RUNC, TS, type ShimContainerd } from '../test/helpers/shim-containerd.js';
import { stats, timeCommand, type Section, type Stats } from './lib.js';

const SETTLE_MS = 1000;

/** kB: Pss, and the private part (USS: Private_Clean + Private_Dirty). PSS splits shared
 *  pages among their sharers, so ours moves with the number of other Node processes on the
 *  machine (the node binary's pages); USS does not. */
function memory(pid: number): { pss: number; uss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { pss: kb('Pss'), uss: kb('Private_Clean') + kb('Private_Dirty') };
  } catch {
    return { pss: 0, uss: 0 }; // gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample {
  total: number;
  uss: number;
  spare: number;
  processes: number;
}

async function sample(shim: ShimContainerd, runtime: string, count: number): Promise<Sample> {
  const base = ['--address', shim.ctd.address, '--namespace', NAMESPACE];
  for (let i = 0; i < count; i++) {
    timeCommand('ctr', [...base, 'run', '-d', '--runtime', runtime, IMAGE, `bench-mem-${process.pid}-${i}`, 'sleep', '100000'], { env: shim.ctd.env });
  }
  await sleep(SETTLE_MS);
  let pids: number[];
  let spares: number[] = [];
  if (runtime === TS) {
    spares = shim.spares();
    pids = [...shim.servers(), ...spares];
  } else {
    pids = processesMatching('containerd-shim-runc-v2', `-address ${shim.ctd.address}`);
  }
  const total = pids.reduce((sum, pid) => sum + memory(pid).pss, 0);
  const uss = pids.reduce((sum, pid) => sum + memory(pid).uss, 0);
  const spare = spares.reduce((sum, pid) => sum + memory(pid).pss, 0);
  await shim.removeAll();
  return { total: total / 1024, uss: uss / 1024, spare: spare / 1024, processes: pids.length };
}

export async function memorySection(modes: { name: string; shim: ShimContainerd }[], rounds: number): Promise<Section> {
  const lines = ['### (e) shim memory: total PSS of the shim processes, MiB (median of rounds)', '', '| grouping | shim | containers | PSS MiB | min | max | of which an idle spare | USS MiB | processes |', '|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  const medians = new Map<string, number>();
  for (const { name, shim } of modes) {
    for (const count of [1, 10]) {
      for (const runtime of [TS, RUNC]) {
        // runc's shim has no namespace grouping: it is measured once, in the default run.
        if (runtime === RUNC && name !== 'default') continue;
        const samples: Sample[] = [];
        for (let r = 0; r < rounds; r++) samples.push(await sample(shim, runtime, count));
        const s: Stats = stats(`${name} ${runtime} ${count}`, samples.map((x) => x.total));
        const spare = stats('spare', samples.map((x) => x.spare)).median;
        const uss = stats('uss', samples.map((x) => x.uss)).median;
        const procs = stats('procs', samples.map((x) => x.processes)).median;
        medians.set(s.name, s.median);
        lines.push(`| ${runtime === RUNC ? 'per container (runc shim)' : name} | ${runtime === TS ? 'ts' : 'runc'} | ${count} | ${s.median.toFixed(1)} | ${s.min.toFixed(1)} | ${s.max.toFixed(1)} | ${spare.toFixed(1)} | ${uss.toFixed(1)} | ${procs} |`);
      }
    }
  }
  const runc10 = medians.get(`default ${RUNC} 10`)!;
  return {
    text: lines.join('\n'),
    ratios: [
      { section: '(e)', measure: 'shim PSS, 10 containers, default grouping', ours: medians.get(`default ${TS} 10`)!, theirs: runc10, unit: 'MiB', target: 3 },
      { section: '(e)', measure: 'shim PSS, 10 containers, namespace grouping', ours: medians.get(`namespace ${TS} 10`)!, theirs: runc10, unit: 'MiB', target: 0.5 },
    ],
  };
}

// (e) Shim memory: the total PSS (Pss of /proc/<pid>/smaps_rollup, summed) of every shim
// process serving 1, 10 and 100 running containers, each a pod of its own. Ours: the keepers
// (one per group), the brains (the launcher has exited) and an idle spare if one is waiting:
// everything the shim adds, so a pod's share of the shared brain counts; runc's: its
// containerd-shim-runc-v2 processes, one per pod. Ours in each mode: default (a group and a
// keeper per pod, every group of the namespace served by one brain), namespace grouping (one
// group, one keeper, for the namespace), and, for comparison, a brain per group
// (TSRUN_SHIM_HOST=0). Targets: default per pod <= runc's per pod at 10 and at 100 (issue
// 11), namespace <= 0.5 × at 10.
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
    pids = [...shim.keepers(), ...shim.servers(), ...spares];
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
  const lines = ['### (e) shim memory: total PSS of the shim processes, MiB (median of rounds)', '', '| grouping | shim | pods | PSS MiB | per pod | min | max | of which an idle spare | USS MiB | processes |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  const medians = new Map<string, number>();
  for (const { name, shim } of modes) {
    for (const count of [1, 10, 100]) {
      for (const runtime of [TS, RUNC]) {
        // runc's shim has no namespace grouping: it is measured once, in the default run; a
        // hundred pods, in the default run alone.
        if (runtime === RUNC && name !== 'default') continue;
        if (count === 100 && name !== 'default') continue;
        const samples: Sample[] = [];
        for (let r = 0; r < rounds; r++) samples.push(await sample(shim, runtime, count));
        const s: Stats = stats(`${name} ${runtime} ${count}`, samples.map((x) => x.total));
        const spare = stats('spare', samples.map((x) => x.spare)).median;
        const uss = stats('uss', samples.map((x) => x.uss)).median;
        const procs = stats('procs', samples.map((x) => x.processes)).median;
        medians.set(s.name, s.median);
        lines.push(`| ${runtime === RUNC ? 'per container (runc shim)' : name} | ${runtime === TS ? 'ts' : 'runc'} | ${count} | ${s.median.toFixed(1)} | ${(s.median / count).toFixed(2)} | ${s.min.toFixed(1)} | ${s.max.toFixed(1)} | ${spare.toFixed(1)} | ${uss.toFixed(1)} | ${procs} |`);
      }
    }
  }
  const runc10 = medians.get(`default ${RUNC} 10`)!;
  const perPod = (key: string, pods: number): number => medians.get(key)! / pods;
  return {
    text: lines.join('\n'),
    ratios: [
      { section: '(e)', measure: 'shim PSS per pod, 10 pods, default grouping', ours: perPod(`default ${TS} 10`, 10), theirs: perPod(`default ${RUNC} 10`, 10), unit: 'MiB', target: 1 },
      { section: '(e)', measure: 'shim PSS per pod, 100 pods, default grouping', ours: perPod(`default ${TS} 100`, 100), theirs: perPod(`default ${RUNC} 100`, 100), unit: 'MiB', target: 1 },
      { section: '(e)', measure: 'shim PSS, 10 containers, namespace grouping', ours: medians.get(`namespace ${TS} 10`)!, theirs: runc10, unit: 'MiB', target: 0.5 },
    ],
  };
}

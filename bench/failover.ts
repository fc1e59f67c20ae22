// (k) What containerd waits while a brain is replaced: a container runs; every brain is
// SIGKILLed; the time from the kill to the first answer to a request containerd's
// connection sends right after it (State, on the group's socket, through its keeper). With
// a spare waiting (the default: the next brain is already loaded) and without one
// (TSRUN_SHIM_SPARE=0: a Node start on the way). runc's shim has nothing to compare: its
// crash ends the pod. Informational: no target.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Task } from '../src/gen/containerd/task/v2/shim_pb.js';
import { Client } from '../src/ttrpc/client.js';
import { IMAGE, NAMESPACE, TS, type ShimContainerd } from '../test/helpers/shim-containerd.js';
import { stats, timeCommand, type Section, type Stats } from './lib.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function once(shim: ShimContainerd, id: string, spare: boolean): Promise<number> {
  const address = readFileSync(path.join(shim.ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id, 'address'), 'utf8');
  const client = new Client(address, { timeoutMs: 60_000 });
  try {
    await client.unary(Task.method.state, { id });
    // A spare takes a moment to be back after the last replacement.
    const until = Date.now() + 5000;
    while (spare && shim.spares().length === 0 && Date.now() < until) await sleep(20);
    const brains = shim.servers();
    const t0 = process.hrtime.bigint();
    for (const pid of brains) process.kill(pid, 'SIGKILL');
    await client.unary(Task.method.state, { id });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    client.destroy();
  }
}

export async function failoverSection(modes: { name: string; shim: ShimContainerd; spare: boolean }[], rounds: number): Promise<Section> {
  const rows: Stats[] = [];
  for (const { name, shim, spare } of modes) {
    const id = `bench-failover-${process.pid}-${name.replace(/\W/g, '')}`;
    timeCommand('ctr', ['--address', shim.ctd.address, '--namespace', NAMESPACE, 'run', '-d', '--runtime', TS, IMAGE, id, 'sleep', '100000'], { env: shim.ctd.env });
    const samples: number[] = [];
    for (let r = 0; r < rounds; r++) samples.push(await once(shim, id, spare));
    rows.push(stats(`(k) kill of every brain -> first answer, ${name}`, samples));
    await shim.removeAll();
  }
  const lines = ['### (k) a brain replaced: from its SIGKILL to the first answered request, ms', '', '| case | median | min | max |', '|---|---:|---:|---:|'];
  for (const s of rows) lines.push(`| ${s.name} | ${s.median.toFixed(1)} | ${s.min.toFixed(1)} | ${s.max.toFixed(1)} |`);
  return { text: lines.join('\n'), ratios: [] };
}

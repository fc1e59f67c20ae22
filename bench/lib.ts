// Timing helpers for the benchmarks: cases run interleaved, round by round, so that a noisy
// moment of the machine hits every case alike; results are medians with min and max.
import { spawnSync } from 'node:child_process';
import { cpus, release } from 'node:os';

export interface Case {
  name: string;
  /** run once; returns the wall time in ms */
  once: () => number | Promise<number>;
  setup?: () => void | Promise<void>;
  teardown?: () => void | Promise<void>;
}

export interface Stats {
  name: string;
  median: number;
  min: number;
  max: number;
  n: number;
}

export function timeCommand(cmd: string, args: string[], opts: { input?: string } = {}): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'], input: opts.input ?? '' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().trim()}`);
  return ms;
}

export function stats(name: string, samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { name, median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

export async function interleaved(cases: Case[], rounds: number, warmup = 2): Promise<Stats[]> {
  for (const c of cases) await c.setup?.();
  const samples = new Map(cases.map((c) => [c.name, [] as number[]]));
  try {
    for (let r = 0; r < warmup + rounds; r++) {
      for (const c of cases) {
        const ms = await c.once();
        if (r >= warmup) samples.get(c.name)!.push(ms);
      }
    }
  } finally {
    for (const c of cases) await c.teardown?.();
  }
  return cases.map((c) => stats(c.name, samples.get(c.name)!));
}

export const fmt = (ms: number): string => ms.toFixed(1);

export function table(rows: Stats[]): string {
  const lines = ['| case | median ms | min | max | runs |', '|---|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.name} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.n} |`);
  return lines.join('\n');
}

export function machine(): string {
  const v = (cmd: string, args: string[]): string => spawnSync(cmd, args).stdout?.toString().split('\n')[0]?.trim() ?? '?';
  return [
    `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Linux ${release()}`,
    `node ${process.version}, ${v('runc', ['--version'])}, ${v('crun', ['--version'])}, containerd ${v('containerd', ['--version']).split(' ')[2] ?? '?'}`,
  ].join('; ');
}

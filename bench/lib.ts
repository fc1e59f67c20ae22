// Timing helpers for the benchmarks: cases run interleaved, round by round, so that a noisy
// moment of the machine hits every case alike; results are medians with min and max.
import { spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import type { Timing } from './shell.js';

export interface Case {
  name: string;
  /** run once; returns the wall time in ms, or wall and CPU time (commands timed by the bench's shell) */
  once: () => number | Timing | Promise<number | Timing>;
  setup?: () => void | Promise<void>;
  teardown?: () => void | Promise<void>;
}

export interface Stats {
  name: string;
  median: number;
  min: number;
  max: number;
  n: number;
  /** median CPU time, ms, when the case measured it */
  cpu?: number;
}

/** Runs a command for set-up (not a timed case: those run from the bench's shell) and returns its wall time. */
export function timeCommand(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'], input: opts.input ?? '', env: opts.env ?? process.env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().trim()}`);
  return ms;
}

/** Runs a command to its end without blocking the event loop (for commands run side by side). */
export function runCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.trim()}`))));
  });
}

export const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function stats(name: string, samples: number[], cpu: number[] = []): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return { name, median: median(s), min: s[0]!, max: s[s.length - 1]!, n: s.length, ...(cpu.length ? { cpu: median(cpu) } : {}) };
}

/**
 * The pause before each timed command (BENCH_GAP_MS, 300 ms), as between commands a user
 * types: what the last command left running in the background (a ts shim's spare being
 * started again, a runc shim exiting, containerd's snapshot collection) is then not billed
 * to the next case, whichever runtime that one is. bench/shell-check.sh pauses alike.
 */
export const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 300);
if (!(GAP_MS >= 0)) throw new Error(`BENCH_GAP_MS must be a number of ms, not ${process.env.BENCH_GAP_MS}`);

export async function interleaved(cases: Case[], rounds: number, warmup = 2): Promise<Stats[]> {
  for (const c of cases) await c.setup?.();
  const samples = new Map(cases.map((c) => [c.name, { wall: [] as number[], cpu: [] as number[] }]));
  try {
    for (let r = 0; r < warmup + rounds; r++) {
      for (const c of cases) {
        if (GAP_MS > 0) await new Promise((r) => setTimeout(r, GAP_MS));
        const t = await c.once();
        if (r < warmup) continue;
        const s = samples.get(c.name)!;
        if (typeof t === 'number') s.wall.push(t);
        else {
          s.wall.push(t.ms);
          s.cpu.push(t.cpu);
        }
      }
    }
  } finally {
    for (const c of cases) await c.teardown?.();
  }
  return cases.map((c) => stats(c.name, samples.get(c.name)!.wall, samples.get(c.name)!.cpu));
}

export const fmt = (ms: number): string => ms.toFixed(1);

export function table(rows: Stats[]): string {
  const withCpu = rows.some((r) => r.cpu !== undefined);
  const lines = withCpu
    ? ['| case | median ms | min | max | runs | CPU ms (median) |', '|---|---:|---:|---:|---:|---:|']
    : ['| case | median ms | min | max | runs |', '|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    const cpu = withCpu ? ` ${r.cpu === undefined ? '' : fmt(r.cpu)} |` : '';
    lines.push(`| ${r.name} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.n} |${cpu}`);
  }
  return lines.join('\n');
}

export function machine(): string {
  const v = (cmd: string, args: string[]): string => spawnSync(cmd, args).stdout?.toString().split('\n')[0]?.trim() ?? '?';
  return [
    `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Linux ${release()}`,
    `node ${process.version}, ${v('runc', ['--version'])}, ${v('crun', ['--version'])}, containerd ${v('containerd', ['--version']).split(' ')[2] ?? '?'}`,
  ].join('; ');
}

/** The 1, 5 and 15 minute load averages, as uptime prints them. */
export function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

/** One line of the summary: what was compared, both values, their ratio and the target. */
export interface Ratio {
  section: string;
  measure: string;
  ours: number;
  theirs: number;
  unit: string;
  /** the ratio ours/theirs must be at most this; undefined: shown for information */
  target?: number;
  /** text for the ratio column when it is not ours/theirs */
  note?: string;
}

export function ratioTable(rows: Ratio[]): string {
  const lines = ['| | measure | tsrun | reference | ratio | target | met |', '|---|---|---:|---:|---:|---:|---|'];
  for (const r of rows) {
    const ratio = r.ours / r.theirs;
    const met = r.target === undefined ? '' : ratio <= r.target ? 'yes' : 'no';
    lines.push(`| ${r.section} | ${r.measure} | ${fmt(r.ours)} ${r.unit} | ${fmt(r.theirs)} ${r.unit} | ${ratio.toFixed(2)} | ${r.target === undefined ? '' : `<= ${r.target.toFixed(2)}`} | ${met} |`);
  }
  return lines.join('\n');
}

export interface Section {
  text: string;
  ratios: Ratio[];
  /** timed rows the shell cross-check (bench/shell-check.sh) times too, by the same names */
  rows?: Stats[];
}

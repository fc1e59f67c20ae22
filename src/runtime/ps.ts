// ps: the container's processes. As runc's ps, the table form runs the host's `ps` (with
// the caller's options, -ef by default) and keeps the header and the lines whose PID
// column is one of the container's.
import { hasCgroups } from '../cgroups/rootless.js';
import { childProcess } from '../native/index.js';
import { Internal } from '../errors.js';
import type { Container } from './container.js';

export function containerPids(container: Container): number[] {
  const cgroup = container.cgroup();
  // Gone: no processes. Never made (rootless): procs() says there is no telling.
  if (!cgroup.exists() && hasCgroups(container.state.cgroupPaths)) return [];
  return cgroup.procs().sort((a, b) => a - b);
}

/** Keeps the header and the rows of `ps` output whose PID column names one of pids. */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const index = header.trim().split(/\s+/).indexOf('PID');
  if (index < 0) throw new Internal("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const rows = lines.slice(1).filter((line) => {
    if (!line.trim()) return false;
    const pid = Number(line.trim().split(/\s+/)[index]);
    if (!Number.isInteger(pid)) throw new Internal(`unable to parse pid: ${JSON.stringify(line)}`);
    return wanted.has(pid);
  });
  return [header, ...rows].map((l) => `${l}\n`).join('');
}

export function psTable(container: Container, psArgs: string[]): string {
  const pids = containerPids(container);
  let output: string;
  try {
    output = childProcess().execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Internal(`ps ${psArgs.join(' ')}: ${(e.stderr || e.stdout || e.message).trim()}`, {}, { cause: err });
  }
  return filterPsOutput(output, pids);
}

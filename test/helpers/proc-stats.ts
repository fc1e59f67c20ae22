// What a long-lived process holds, read from /proc: for before/after comparisons in load
// and fuzz tests (fds, threads, memory, zombie children).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStats {
  fds: number;
  threads: number;
  /** proportional set size, KiB */
  pssKiB: number;
  rssKiB: number;
  zombieChildren: number;
}

function field(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export function procStats(pid: number): ProcStats {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  let zombies = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z' && Number(rest[1]) === pid) zombies++;
    } catch {
      // gone
    }
  }
  return {
    fds: readdirSync(`/proc/${pid}/fd`).length,
    threads: field(status, 'Threads'),
    pssKiB: field(rollup, 'Pss'),
    rssKiB: field(rollup, 'Rss'),
    zombieChildren: zombies,
  };
}

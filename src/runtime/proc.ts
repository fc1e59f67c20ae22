// What /proc says about a process.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, Z, T, X... */
  state: string;
  ppid: number;
  /** clock ticks after boot; with the pid, names one process across pid reuse */
  startTime: string;
}

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may hold spaces and parentheses; fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '', ppid: Number(rest[1]), startTime: rest[19] ?? '' };
}

/** The process is alive and is the one that started at startTime. */
export function isAlive(pid: number, startTime: string): boolean {
  const st = readProcStat(pid);
  return st !== null && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}

/** The pid still names the process that started at startTime, alive or exited and not yet reaped. */
export function isSameProcess(pid: number, startTime: string): boolean {
  return readProcStat(pid)?.startTime === startTime;
}

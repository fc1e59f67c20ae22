// What a container may leave behind, looked for after it is gone.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TEST_CGROUP_PARENT } from './paths.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Directories of this container's cgroup in every hierarchy that still exist. */
export function leftoverCgroups(id: string): string[] {
  const found: string[] = [];
  for (const h of readdirSync(CGROUP_ROOT)) {
    const dir = path.join(CGROUP_ROOT, h, TEST_CGROUP_PARENT, id);
    if (existsSync(dir)) found.push(dir);
  }
  return found;
}

/** Mount points under a path (the bundle: its rootfs bind and everything on it). */
export function leftoverMounts(under: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === under || m.startsWith(under + '/'));
}

/** Whether pid is a warm CLI server (src/server): the user's, kept between calls, not a
 *  leftover of any one of them. */
export function isCliServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() === 'tsrun-server';
  } catch {
    return false;
  }
}

/** Live processes whose command line mentions the text (e.g. a unique marker). */
export function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmd.includes(text) && state !== 'Z') pids.push(Number(name));
    } catch {
      // raced with its exit
    }
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

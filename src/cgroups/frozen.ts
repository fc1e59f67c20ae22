// Whether a task put in the container's cgroups now would be frozen: by the container's own
// freezer, or, before its directories exist, by the nearest ancestor's (a v1 child reads
// FROZEN under a frozen parent; v2 says so in cgroup.events). No driver's state is needed,
// so create can ask before it makes anything.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CgroupPaths } from './manager.js';

/** The directory itself if it exists, else its nearest existing ancestor. */
function nearest(dir: string): string {
  let at = dir;
  while (!existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return ''; // a hierarchy's root has no freezer files; a cgroup may go meanwhile
  }
}

/** The freezer file that says the cgroups are frozen ("FROZEN", "FREEZING", "frozen 1"), or null. */
export function frozenBy(paths: CgroupPaths): string | null {
  const v1 = Object.entries(paths.v1).find(([controllers]) => controllers.split(',').includes('freezer'))?.[1];
  if (v1) {
    const file = path.join(nearest(v1), 'freezer.state');
    const state = read(file).trim();
    if (state === 'FROZEN' || state === 'FREEZING') return `${file} is ${state}`;
  }
  if (paths.unified) {
    const dir = nearest(paths.unified);
    if (read(path.join(dir, 'cgroup.freeze')).trim() === '1') return `${path.join(dir, 'cgroup.freeze')} is 1`;
    if (/^frozen 1$/m.test(read(path.join(dir, 'cgroup.events')))) return `${path.join(dir, 'cgroup.events')} says frozen 1`;
  }
  return null;
}

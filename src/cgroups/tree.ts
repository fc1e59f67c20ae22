// Walking a container's cgroup directory and the sub-cgroups it made for itself.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readPids, removeCgroup } from './fs.js';

/** Every pid in dir and below (runc's GetAllPids). */
export function allPids(dir: string, into: Set<number> = new Set()): Set<number> {
  if (!existsSync(dir)) return into;
  for (const pid of readPids(path.join(dir, 'cgroup.procs'))) into.add(pid);
  for (const child of readdirSync(dir, { withFileTypes: true })) {
    if (child.isDirectory()) allPids(path.join(dir, child.name), into);
  }
  return into;
}

/** Removes dir and its sub-cgroups, deepest first. */
export async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const child of readdirSync(dir, { withFileTypes: true })) {
    if (child.isDirectory()) await removeTree(path.join(dir, child.name));
  }
  await removeCgroup(dir);
}

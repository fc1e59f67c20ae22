// What an unprivileged caller may map beyond its own ids: the subordinate ranges of
// /etc/subuid and /etc/subgid (shadow's format, "user-or-uid:start:count"), read to say in
// an error which ranges the caller has, and the mapping tools that grant them.
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { userName } from './state-store.js';

export interface SubordinateRange {
  start: number;
  count: number;
}

/** The ranges of `user` (by name or by uid) in the text of /etc/subuid or /etc/subgid. */
export function parseSubordinateIds(text: string, user: string, uid: number): SubordinateRange[] {
  const out: SubordinateRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner === undefined || start === undefined || count === undefined) continue;
    if (owner !== user && owner !== String(uid)) continue;
    if (!/^\d+$/.test(start) || !/^\d+$/.test(count)) continue;
    out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

/** "the subordinate uids of alice in /etc/subuid: 100000-165535", or that there are none. */
export function describeSubordinateIds(ids: 'uid' | 'gid', euid: number, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): string {
  const file = `/etc/sub${ids}`;
  const user = userName(euid);
  let ranges: SubordinateRange[];
  try {
    ranges = parseSubordinateIds(read(file), user, euid);
  } catch {
    return `${file} cannot be read`;
  }
  if (!ranges.length) return `${user} has no subordinate ${ids}s in ${file}`;
  return `the subordinate ${ids}s of ${user} in ${file}: ${ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ')}`;
}

/** The first executable `name` in a PATH-style list, as exec.LookPath finds it. */
export function findInPath(name: string, searchPath: string | undefined): string | null {
  for (const dir of (searchPath ?? '').split(':')) {
    const file = path.join(dir || '.', name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

// Writing a new user namespace's maps: only a process outside it may, and the bootstrap of
// tsrun-init asks us to once it has unshared it.
import { writeFileSync } from 'node:fs';
import { withContext } from '../errors.js';
import type { IdMappingSpec } from '../oci/spec.js';

function lines(maps: readonly IdMappingSpec[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

export function writeIdMaps(pid: number, uids: readonly IdMappingSpec[], gids: readonly IdMappingSpec[]): void {
  // Each map must go in one write(2); writeFileSync does that for a small buffer.
  for (const [file, text] of [
    ['uid_map', lines(uids)],
    ['gid_map', lines(gids)],
  ] as const) {
    try {
      writeFileSync(`/proc/${pid}/${file}`, text);
    } catch (err) {
      throw withContext(`write ${file} of the new user namespace (${text.trim().replace(/\n/g, ', ')})`, err);
    }
  }
}

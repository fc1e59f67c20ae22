// Reading and writing cgroup files, with errors that name the file.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { SystemError } from '../errors.js';

function systemError(what: string, file: string, err: unknown): SystemError {
  const e = err as NodeJS.ErrnoException;
  const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : 0;
  return new SystemError(`${what} ${file}: ${e.code ?? e.message}`, { errno, syscall: e.syscall }, { path: file });
}

export function writeCgroupFile(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (err) {
    throw systemError(`write ${JSON.stringify(value)} to`, file, err);
  }
}

export function readCgroupFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw systemError('read', file, err);
  }
}

export function readPids(file: string): number[] {
  return readCgroupFile(file)
    .split('\n')
    .filter(Boolean)
    .map(Number);
}

export function mkdirCgroup(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw systemError('create cgroup', dir, err);
  }
}

/**
 * Removes one cgroup directory. The kernel answers EBUSY for a short while after the last
 * task left (v1 keeps css references until RCU lets go), so it is tried a few times.
 */
export async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 50) throw systemError('remove cgroup', dir, err);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Reading and writing cgroup files, with errors that name the file and, for resources,
// the field of the resource model that asked for the write.
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Internal, InvalidArgument, SystemError, type TsrunError } from '../errors.js';

function systemError(what: string, file: string, err: unknown, field?: string): TsrunError {
  const e = err as NodeJS.ErrnoException;
  const reason = `${what} ${file}: ${e.code ?? e.message}`;
  if (typeof e.errno !== 'number') return new Internal(field ? `${field}: ${reason}` : reason, { path: file, field }, { cause: err });
  const details = { errno: Math.abs(e.errno), syscall: e.syscall, path: file };
  return field ? SystemError.at(field, reason, details) : new SystemError(reason, details);
}

/**
 * One write(2) of the whole value (Node opens close-on-exec). No O_CREAT: a missing file is a missing controller or
 * an old kernel, and must say ENOENT rather than make a stray file (or EACCES on cgroupfs).
 */
export function writeCgroupFile(file: string, value: string, field?: string): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_TRUNC);
  } catch (err) {
    throw systemError(`write ${JSON.stringify(value)} to`, file, err, field);
  }
  try {
    writeSync(fd, value);
  } catch (err) {
    throw systemError(`write ${JSON.stringify(value)} to`, file, err, field);
  } finally {
    closeSync(fd);
  }
}

/** Writes `value` to `dir/name` for the resource `field` (e.g. "memory.limit"). */
export function writeResource(dir: string, name: string, value: string, field: string): void {
  writeCgroupFile(path.join(dir, name), value, field);
}

export function readCgroupFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw systemError('read', file, err);
  }
}

export function hasFile(dir: string, name: string): boolean {
  return existsSync(path.join(dir, name));
}

/** A file holding one unsigned number ("max" reads as the largest u64). */
export function readUint(dir: string, name: string): bigint {
  const text = readCgroupFile(path.join(dir, name)).trim();
  if (text === 'max') return 2n ** 64n - 1n;
  try {
    return BigInt(text);
  } catch {
    // v1 reports -1 for some unset values; runc reads those as 0
    if (/^-\d+$/.test(text)) return 0n;
    throw new Internal(`parse ${path.join(dir, name)}: not a number: ${JSON.stringify(text)}`, { path: path.join(dir, name) });
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events...). */
export function readKeyValues(dir: string, name: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of readCgroupFile(path.join(dir, name)).split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined || !/^\d+$/.test(v)) continue;
    out.set(k, BigInt(v));
  }
  return out;
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

/** A resource this host cannot apply: named, never silently dropped. */
export function unsupported(field: string, why: string): InvalidArgument {
  return InvalidArgument.at(field, why);
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

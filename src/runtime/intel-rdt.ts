// linux.intelRdt through resctrl: a resource group named by closID (shared, kept) or by
// the container id (ours, removed at delete), its schemata written, the init added.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FailedPrecondition, InvalidArgument, withContext } from '../errors.js';
import type { LinuxSpec } from '../oci/spec.js';

export function resctrlRoot(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string | null {
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash > 0 && f[dash + 1] === 'resctrl') return f[4] ?? null;
  }
  return null;
}

export interface RdtGroup {
  dir: string;
  /** made for this container: removed with it */
  own: boolean;
}

export function prepareRdt(linux: LinuxSpec | undefined, id: string, root = resctrlRoot()): RdtGroup | null {
  const rdt = linux?.intelRdt;
  if (!rdt) return null;
  if (!root) throw new FailedPrecondition('linux.intelRdt: resctrl is not mounted on this host', { field: 'linux.intelRdt' });
  const name = rdt.closID ?? id;
  if (!/^[\w.-]+$/.test(name) || name === '.' || name === '..') {
    throw InvalidArgument.at('linux.intelRdt.closID', `${JSON.stringify(name)} is not a resctrl group name`);
  }
  const dir = path.join(root, name);
  const own = !existsSync(dir);
  try {
    if (own) mkdirSync(dir);
    const lines = [rdt.l3CacheSchema, rdt.memBwSchema, ...(rdt.schemata ?? [])].filter((l): l is string => !!l);
    // The kernel takes one schema line per write.
    for (const l of lines) writeFileSync(path.join(dir, 'schemata'), `${l}\n`);
  } catch (err) {
    if (own) rmdirSync(dir);
    throw withContext(`linux.intelRdt: resctrl group ${dir}`, err);
  }
  return { dir, own };
}

export function joinRdt(group: RdtGroup, pid: number): void {
  writeFileSync(path.join(group.dir, 'tasks'), String(pid));
}

export function removeRdt(group: RdtGroup | undefined): void {
  if (group?.own && existsSync(group.dir)) rmdirSync(group.dir);
}

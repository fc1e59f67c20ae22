// The rootfs mounts containerd sends with Create (a snapshot: usually one overlay or bind),
// mounted in order onto <bundle>/rootfs, and taken off again at Delete.
import { existsSync, mkdirSync } from 'node:fs';
import { constants as os } from 'node:os';
import path from 'node:path';
import type { Mount } from '../gen/containerd/types/mount_pb.js';
import { InvalidArgument, Unimplemented, withContext } from '../errors.js';
import { mount, umount } from '../native/index.js';
import { MS, parseMountOptions } from '../oci/mount-options.js';

const MNT_DETACH = 2;
const PAGE_SIZE = 4096;

export function mountRootfs(mounts: readonly Mount[], target: string): void {
  if (!existsSync(target)) mkdirSync(target, { mode: 0o711 });
  try {
    mounts.forEach((m, i) => mountOne(m, target, `rootfs[${i}]`));
  } catch (err) {
    unmountAll(target);
    throw err;
  }
}

function mountOne(m: Mount, target: string, field: string): void {
  for (const opt of m.options) {
    if (opt.startsWith('X-containerd.')) throw InvalidArgument.at(field, `option ${opt} is for containerd, not the shim`);
    if (opt === 'loop') throw new Unimplemented(`${field}: loop mounts are not supported yet`, { field });
    if (opt.startsWith('uidmap=') || opt.startsWith('gidmap=')) {
      throw new Unimplemented(`${field}: idmapped mounts are not supported yet`, { field });
    }
  }
  const { flags, propagation, data } = parseMountOptions(m.options);
  let options = data.join(',');
  let cwd: string | undefined;
  if (m.type === 'overlay' && options.length >= PAGE_SIZE) [cwd, options] = compactLowerdirs(data, field);
  const isBind = (flags & MS.BIND) !== 0 || m.type === 'bind';
  try {
    const previous = cwd ? process.cwd() : undefined;
    if (cwd) process.chdir(cwd);
    try {
      if (isBind) {
        // A bind ignores most flags: bind first, then remount with them.
        mount(m.source, target, '', (flags & (MS.BIND | MS.REC)) | MS.BIND, '');
        const rest = flags & ~(MS.BIND | MS.REC);
        if (rest !== 0) mount('', target, '', rest | MS.REMOUNT | MS.BIND, '');
      } else {
        mount(m.source, target, m.type, flags, options);
      }
    } finally {
      if (previous) process.chdir(previous);
    }
    for (const p of propagation) mount('', target, '', p, '');
  } catch (err) {
    throw withContext(`${field}: mount ${m.type} ${m.source} on ${target}`, err);
  }
}

/**
 * Overlay options longer than a page do not fit mount(2). As containerd does, move to the
 * lowerdirs' common parent and name them relative to it.
 */
function compactLowerdirs(data: string[], field: string): [string, string] {
  const lower = data.find((d) => d.startsWith('lowerdir='));
  if (!lower) throw InvalidArgument.at(field, 'overlay options exceed a page and have no lowerdir to shorten');
  const dirs = lower.slice('lowerdir='.length).split(':');
  let common = path.dirname(dirs[0] ?? '/');
  while (!dirs.every((d) => d.startsWith(common + '/')) && common !== '/') common = path.dirname(common);
  const rel = dirs.map((d) => path.relative(common, d));
  const options = data.map((d) => (d === lower ? `lowerdir=${rel.join(':')}` : d)).join(',');
  if (options.length >= PAGE_SIZE) throw InvalidArgument.at(field, 'overlay options exceed a page even with relative lowerdirs');
  return [common, options];
}

/** Unmounts everything stacked on target; a busy mount is detached. */
export function unmountAll(target: string): void {
  for (let i = 0; i < 128; i++) {
    try {
      if (!umount(target, 0)) return;
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno !== os.errno.EBUSY) throw err;
      if (!umount(target, MNT_DETACH)) return;
    }
  }
}

// What may be mounted on or inside /proc. A fake /proc hides the masks and the runtime's own
// /proc/self/fd paths; a mount inside /proc can replace files the kernel's protections live
// in (CVE-2019-19921's class). As runc does, only procfs goes on /proc, and only the files
// lxcfs emulates may be covered inside it. tsrun-init checks the resolved target again, for
// destinations that reach /proc through a symlink.
import { statfsSync } from 'node:fs';
import { InvalidArgument } from '../../errors.js';

const PROC_SUPER_MAGIC = 0x9fa0;

/** Kept in step with kProcMountAllowed in cpp/init/rootfs.cc. */
export const PROC_MOUNT_ALLOWED = [
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
];

function isProcfs(source: string): boolean {
  try {
    return statfsSync(source).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** dest is cleaned; source is the host path of a bind's source. */
export function checkProcMount(field: string, dest: string, type: string | undefined, bind: boolean, source: string | undefined): void {
  if (type === 'proc' && !bind) return;
  if (dest === '/proc') {
    if (bind && source !== undefined && isProcfs(source)) return;
    throw InvalidArgument.at(`${field}.destination`, '"/proc" cannot be mounted because it is not of type proc');
  }
  if (dest.startsWith('/proc/') && !PROC_MOUNT_ALLOWED.includes(dest)) {
    throw InvalidArgument.at(`${field}.destination`, `${JSON.stringify(dest)} cannot be mounted because it is inside /proc`);
  }
}

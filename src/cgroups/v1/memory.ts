// v1 memory controller: limit and memsw (memory + swap) are written in the order the
// kernel accepts (memsw may never drop below the limit), as runc does.
import { constants } from 'node:os';
import { SystemError } from '../../errors.js';
import { hasFile, readUint, unsupported, writeResource } from '../fs.js';
import { checkUsage } from '../check.js';
import type { MemoryResources } from '../resources.js';

const LIMIT = 'memory.limit_in_bytes';
const MEMSW = 'memory.memsw.limit_in_bytes';

function setLimit(dir: string, limit: number): void {
  if (limit === 0) return;
  try {
    writeResource(dir, LIMIT, String(limit), 'memory.limit');
  } catch (err) {
    // EBUSY: the cgroup already uses more than the new limit.
    if (err instanceof SystemError && err.errno === constants.errno.EBUSY) {
      const usage = readUint(dir, 'memory.usage_in_bytes');
      const peak = readUint(dir, 'memory.max_usage_in_bytes');
      throw SystemError.at('memory.limit', `unable to set memory limit to ${limit} (current usage: ${usage}, peak usage: ${peak})`, { errno: err.errno });
    }
    throw err;
  }
}

function setSwap(dir: string, swap: number): void {
  if (swap === 0) return;
  if (!hasFile(dir, MEMSW)) throw unsupported('memory.swap', 'this kernel has no swap accounting (memory.memsw.limit_in_bytes is missing)');
  writeResource(dir, MEMSW, String(swap), 'memory.swap');
}

export function setMemory(dir: string, m: MemoryResources | undefined): void {
  if (!m) return;
  if (m.checkBeforeUpdate) checkUsage(m.limit, () => readUint(dir, 'memory.usage_in_bytes'));
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  if (limit === -1 && swap === 0 && hasFile(dir, MEMSW)) swap = -1;
  if (limit !== 0 && swap !== 0) {
    const current = readUint(dir, LIMIT);
    if (swap === -1 || current < BigInt(swap)) {
      // Raising: memsw first, so the limit never exceeds it on the way.
      setSwap(dir, swap);
      setLimit(dir, limit);
    } else {
      setLimit(dir, limit);
      setSwap(dir, swap);
    }
  } else {
    setLimit(dir, limit);
    setSwap(dir, swap);
  }
  // Since Linux 6.0 the kernel takes and ignores kmem limits; older ones enforce them.
  if (m.kernel) writeResource(dir, 'memory.kmem.limit_in_bytes', String(m.kernel), 'memory.kernel');
  if (m.kernelTCP) writeResource(dir, 'memory.kmem.tcp.limit_in_bytes', String(m.kernelTCP), 'memory.kernelTCP');
  if (m.reservation) writeResource(dir, 'memory.soft_limit_in_bytes', String(m.reservation), 'memory.reservation');
  if (m.disableOOMKiller) writeResource(dir, 'memory.oom_control', '1', 'memory.disableOOMKiller');
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100) throw unsupported('memory.swappiness', `must be between 0 and 100, not ${m.swappiness}`);
    writeResource(dir, 'memory.swappiness', String(m.swappiness), 'memory.swappiness');
  }
  if (m.useHierarchy !== undefined) {
    try {
      writeResource(dir, 'memory.use_hierarchy', m.useHierarchy ? '1' : '0', 'memory.useHierarchy');
    } catch (err) {
      if (!m.useHierarchy && err instanceof SystemError && err.errno === constants.errno.EINVAL) {
        throw unsupported('memory.useHierarchy', 'this kernel always accounts memory hierarchically and cannot turn it off');
      }
      throw err;
    }
  }
}

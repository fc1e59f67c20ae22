// v2 memory controller: memory.max, memory.low, and memory.swap.max, which counts swap
// alone where v1 (and the OCI spec) count memory + swap: runc's conversion.
import { logger } from '../../log.js';
import { hasFile, readUint, unsupported, writeResource } from '../fs.js';
import { maxValue, type MemoryResources } from '../resources.js';
import { checkUsage } from '../check.js';

/** OCI's memory+swap to v2's swap-only value (-1 is "max", 0 is "leave alone"). */
export function swapOnly(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) throw unsupported('memory.swap', 'unable to set swap limit without memory limit');
  if (limit < 0) throw unsupported('memory.limit', `invalid memory value: ${limit}`);
  if (swap < limit) throw unsupported('memory.swap', `memory+swap limit (${swap}) should be >= memory limit (${limit})`);
  return swap - limit;
}

const NO_V2 = 'has no cgroup v2 equivalent and is ignored, as runc does';

export function setMemory(dir: string, m: MemoryResources | undefined): void {
  if (!m) return;
  if (m.checkBeforeUpdate) checkUsage(m.limit, () => readUint(dir, 'memory.current'));
  const swap = swapOnly(m.swap ?? 0, m.limit ?? 0);
  let swapValue = maxValue(swap);
  // memory and memory+swap equal: no swap at all
  if (swapValue === undefined && swap === 0 && (m.swap ?? 0) > 0) swapValue = '0';
  if (swapValue !== undefined) {
    if (hasFile(dir, 'memory.swap.max')) writeResource(dir, 'memory.swap.max', swapValue, 'memory.swap');
    else if (swapValue !== 'max') throw unsupported('memory.swap', 'this kernel has no swap accounting (memory.swap.max is missing)');
  }
  const limit = maxValue(m.limit);
  if (limit !== undefined) writeResource(dir, 'memory.max', limit, 'memory.limit');
  const low = maxValue(m.reservation);
  if (low !== undefined) writeResource(dir, 'memory.low', low, 'memory.reservation');
  if (m.kernel) logger.warn(`memory.kernel ${NO_V2}`);
  if (m.kernelTCP) logger.warn(`memory.kernelTCP ${NO_V2}`);
  if (m.swappiness !== undefined && m.swappiness !== -1) logger.warn(`memory.swappiness ${NO_V2}`);
  if (m.disableOOMKiller) logger.warn(`memory.disableOOMKiller ${NO_V2}`);
  if (m.useHierarchy === false) throw unsupported('memory.useHierarchy', 'cgroup v2 is always hierarchical');
}

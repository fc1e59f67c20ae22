// memory.checkBeforeUpdate: a new limit at or below what the cgroup already uses is
// refused before the kernel would start reclaiming or OOM-killing to meet it.
import { unsupported } from './fs.js';

export function checkUsage(limit: number | undefined, usage: () => bigint): void {
  if (limit === undefined || limit <= 0) return;
  const used = usage();
  if (BigInt(limit) <= used) {
    throw unsupported('memory.limit', `rejecting memory limit ${limit} below current usage ${used} (checkBeforeUpdate)`);
  }
}

// v1 cpu controller: shares (read back, since the kernel clamps), CFS quota and period,
// burst, idle, and the realtime budget (which must be in place before an RT task joins).
import { constants } from 'node:os';
import { SystemError } from '../../errors.js';
import { readUint, writeResource } from '../fs.js';
import type { CpuResources } from '../resources.js';

export function setRealtime(dir: string, c: CpuResources | undefined): void {
  if (c?.realtimePeriod) writeResource(dir, 'cpu.rt_period_us', String(c.realtimePeriod), 'cpu.realtimePeriod');
  if (c?.realtimeRuntime) writeResource(dir, 'cpu.rt_runtime_us', String(c.realtimeRuntime), 'cpu.realtimeRuntime');
}

export function setCpu(dir: string, c: CpuResources | undefined): void {
  if (!c) return;
  if (c.shares) {
    writeResource(dir, 'cpu.shares', String(c.shares), 'cpu.shares');
    const got = readUint(dir, 'cpu.shares');
    const { EINVAL } = constants.errno;
    if (BigInt(c.shares) > got) throw SystemError.at('cpu.shares', `the maximum allowed cpu-shares is ${got}`, { errno: EINVAL });
    if (BigInt(c.shares) < got) throw SystemError.at('cpu.shares', `the minimum allowed cpu-shares is ${got}`, { errno: EINVAL });
  }
  let retryPeriod = false;
  if (c.period) {
    try {
      writeResource(dir, 'cpu.cfs_period_us', String(c.period), 'cpu.period');
    } catch (err) {
      // A shorter period can make the old quota/period exceed the parent's: EINVAL
      // until the quota is set, then the period goes in again.
      if (!(err instanceof SystemError && err.errno === constants.errno.EINVAL)) throw err;
      retryPeriod = true;
    }
  }
  if (c.quota) {
    writeResource(dir, 'cpu.cfs_quota_us', String(c.quota), 'cpu.quota');
    if (retryPeriod) writeResource(dir, 'cpu.cfs_period_us', String(c.period), 'cpu.period');
  } else if (retryPeriod) {
    writeResource(dir, 'cpu.cfs_period_us', String(c.period), 'cpu.period');
  }
  if (c.burst !== undefined) writeResource(dir, 'cpu.cfs_burst_us', String(c.burst), 'cpu.burst');
  if (c.idle !== undefined) writeResource(dir, 'cpu.idle', String(c.idle), 'cpu.idle');
  setRealtime(dir, c);
}

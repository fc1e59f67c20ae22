// v2 cpu and cpuset controllers: cpu.weight (from v1 shares), cpu.max "quota period",
// cpu.max.burst, cpu.idle, cpuset.cpus and cpuset.mems. v2 has no realtime budget.
import { unsupported, writeResource } from '../fs.js';
import { sharesToWeight, type CpuResources } from '../resources.js';

/** The kernel's default CFS period, used when only a quota is given. */
const DEFAULT_PERIOD = 100000;

export function setCpu(dir: string, c: CpuResources | undefined): void {
  if (!c) return;
  if (c.realtimeRuntime || c.realtimePeriod) {
    throw unsupported(c.realtimeRuntime ? 'cpu.realtimeRuntime' : 'cpu.realtimePeriod', 'cgroup v2 has no realtime budget (cpu.rt_* is v1 only)');
  }
  if (c.shares) writeResource(dir, 'cpu.weight', String(sharesToWeight(c.shares)), 'cpu.shares');
  if (c.quota || c.period) {
    const quota = c.quota !== undefined && c.quota > 0 ? String(c.quota) : 'max';
    writeResource(dir, 'cpu.max', `${quota} ${c.period || DEFAULT_PERIOD}`, c.quota ? 'cpu.quota' : 'cpu.period');
  }
  if (c.burst !== undefined) writeResource(dir, 'cpu.max.burst', String(c.burst), 'cpu.burst');
  if (c.idle !== undefined) writeResource(dir, 'cpu.idle', String(c.idle), 'cpu.idle');
}

export function setCpuset(dir: string, c: CpuResources | undefined): void {
  if (c?.cpus) writeResource(dir, 'cpuset.cpus', c.cpus, 'cpu.cpus');
  if (c?.mems) writeResource(dir, 'cpuset.mems', c.mems, 'cpu.mems');
}

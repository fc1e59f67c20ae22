// A new v1 cpuset cgroup starts with empty cpus and mems, and the kernel refuses tasks
// into it until both are set. Like runc, each new level copies its parent's values, from
// the top down so that every parent has them when its child asks. The container's own
// cpus and mems, when given, are written after.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readCgroupFile, writeCgroupFile, writeResource } from '../fs.js';
import type { CpuResources } from '../resources.js';

export function prepareCpuset(dir: string): void {
  const chain: string[] = [];
  for (let d = dir; path.dirname(d) !== d && existsSync(path.join(path.dirname(d), 'cpuset.cpus')); d = path.dirname(d)) {
    chain.unshift(d);
  }
  for (const d of chain) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readCgroupFile(path.join(d, file)).trim() !== '') continue;
      writeCgroupFile(path.join(d, file), readCgroupFile(path.join(path.dirname(d), file)).trim());
    }
  }
}

export function setCpuset(dir: string, c: CpuResources | undefined): void {
  if (c?.cpus) writeResource(dir, 'cpuset.cpus', c.cpus, 'cpu.cpus');
  if (c?.mems) writeResource(dir, 'cpuset.mems', c.mems, 'cpu.mems');
}

// A new v1 cpuset cgroup starts with empty cpus and mems, and the kernel refuses tasks
// into it until both are set. Like runc, each new level copies its parent's values, from
// the top down so that every parent has them when its child asks.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readCgroupFile, writeCgroupFile } from '../fs.js';

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

// A container without any cgroup: what a rootless create leaves when the caller may create
// none (runc 1.1 goes on the same way). Limits are refused with runc's words, and the verbs
// that need a cgroup to find the container's processes say that there is none.
import { FailedPrecondition, InvalidArgument } from '../errors.js';
import type { CgroupManager, CgroupPaths, CgroupSpec, SelfJoin } from './manager.js';
import type { Resources } from './resources.js';
import { refuseAll } from './rootless.js';
import { emptyStats, type Stats } from './stats.js';

export class NoCgroup implements CgroupManager {
  constructor(readonly paths: CgroupPaths) {}

  create(spec: CgroupSpec): void {
    this.set(spec.resources ?? {});
  }

  set(r: Resources): void {
    refuseAll(r);
  }

  selfJoin(): SelfJoin {
    return { tasks: [] };
  }

  addProcess(): void {}

  procs(): number[] {
    throw new FailedPrecondition('unable to get all container pids: the container has no cgroup (rootless, and none could be created)');
  }

  exists(): boolean {
    return false;
  }

  async freeze(): Promise<void> {}

  async thaw(): Promise<void> {}

  canFreeze(): boolean {
    return false;
  }

  isFrozen(): boolean {
    return false;
  }

  killAll(): boolean {
    return false;
  }

  stats(): Stats {
    return emptyStats();
  }

  watchOom(): () => void {
    throw InvalidArgument.at('memory', 'the container has no cgroup: no OOM notifications');
  }

  async destroy(): Promise<void> {}
}

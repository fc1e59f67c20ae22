// Unified cgroup v2: one directory. Controllers are enabled down to it, resources go to
// its v2 files (v1 names translated as runc does), devices become an eBPF program,
// freezing is cgroup.freeze confirmed by cgroup.events, and SIGKILL for all is cgroup.kill.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Internal, Timeout } from '../../errors.js';
import type { CgroupManager, CgroupPaths, CgroupSpec, SelfJoin } from '../manager.js';
import { hasFile, mkdirCgroup, readCgroupFile, unsupported, writeCgroupFile } from '../fs.js';
import { setPids } from '../pids.js';
import { setRdma } from '../rdma.js';
import { bestEffortDevices, refuseUnjoined } from '../rootless.js';
import type { Resources } from '../resources.js';
import type { Stats } from '../stats.js';
import { allPids, removeTree } from '../tree.js';
import { enableControllers } from './controllers.js';
import { setCpu, setCpuset } from './cpu.js';
import { applyDevicePolicy } from './devices.js';
import { setHugetlb } from './hugetlb.js';
import { setIo } from './io.js';
import { setMemory } from './memory.js';
import { watchOomV2 } from './oom.js';
import { statsV2 } from './stats.js';
import { setUnified } from './unified.js';

/** The mount point of a unified hierarchy when the stored paths predate recording it. */
const DEFAULT_MOUNT = '/sys/fs/cgroup';

export class V2Manager implements CgroupManager {
  constructor(readonly paths: CgroupPaths) {}

  private get dir(): string {
    if (!this.paths.unified) throw new Internal('cgroup v2 manager without a unified cgroup path');
    return this.paths.unified;
  }

  private check(r: Resources): void {
    refuseUnjoined(this.paths, r);
    if (r.network?.classID !== undefined) throw unsupported('network.classID', 'net_cls is a cgroup v1 controller; cgroup v2 has none');
    if (r.network?.priorities?.length) throw unsupported('network.priorities', 'net_prio is a cgroup v1 controller; cgroup v2 has none');
  }

  create(spec: CgroupSpec): void {
    const r = spec.resources ?? {};
    this.check(r);
    enableControllers(this.paths.unifiedMount ?? DEFAULT_MOUNT, this.dir);
    mkdirCgroup(this.dir);
    // The device policy is in place before any task can join.
    if (spec.rootless) bestEffortDevices(() => applyDevicePolicy(this.dir, spec.devices));
    else applyDevicePolicy(this.dir, spec.devices);
    this.set(r);
  }

  set(r: Resources): void {
    this.check(r);
    const dir = this.dir;
    // runc's order: pids, memory, io, cpu, cpuset, hugetlb, rdma, then unified last
    setPids(dir, r.pids);
    setMemory(dir, r.memory);
    setIo(dir, r.blockIO);
    setCpu(dir, r.cpu);
    setCpuset(dir, r.cpu);
    setHugetlb(dir, r.hugepageLimits);
    setRdma(dir, r.rdma);
    setUnified(dir, r.unified);
  }

  selfJoin(): SelfJoin {
    return existsSync(this.dir) ? { tasks: [], dir: this.dir } : { tasks: [] };
  }

  addProcess(pid: number, joined?: SelfJoin): void {
    if (joined?.dir === this.dir) return;
    writeCgroupFile(path.join(this.dir, 'cgroup.procs'), String(pid));
  }

  procs(): number[] {
    return [...allPids(this.dir)];
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  async freeze(): Promise<void> {
    await this.setFrozen(true);
  }

  async thaw(): Promise<void> {
    await this.setFrozen(false);
  }

  canFreeze(): boolean {
    return true;
  }

  isFrozen(): boolean {
    if (!hasFile(this.dir, 'cgroup.freeze')) return false;
    return readCgroupFile(path.join(this.dir, 'cgroup.freeze')).trim() === '1';
  }

  private async setFrozen(frozen: boolean): Promise<void> {
    writeCgroupFile(path.join(this.dir, 'cgroup.freeze'), frozen ? '1' : '0');
    const want = `frozen ${frozen ? 1 : 0}`;
    for (let i = 0; i < 1000; i++) {
      if (readCgroupFile(path.join(this.dir, 'cgroup.events')).split('\n').includes(want)) return;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Timeout(`cgroup ${this.dir} did not reach "${want}"`, { path: this.dir });
  }

  killAll(): boolean {
    // cgroup.kill (Linux 5.14): SIGKILL to the whole subtree in one write, no race with forks.
    if (!hasFile(this.dir, 'cgroup.kill')) return false;
    writeCgroupFile(path.join(this.dir, 'cgroup.kill'), '1');
    return true;
  }

  stats(): Stats {
    return statsV2(this.dir);
  }

  watchOom(onOom: () => void, onEnd: () => void): () => void {
    if (!hasFile(this.dir, 'memory.events')) throw unsupported('memory', 'the memory controller is not enabled for this cgroup: no OOM notifications');
    return watchOomV2(this.dir, onOom, onEnd);
  }

  async destroy(): Promise<void> {
    await removeTree(this.dir);
  }
}

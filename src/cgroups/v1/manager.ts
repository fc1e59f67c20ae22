// cgroup v1: a directory per hierarchy, plus hybrid's controller-less unified tree, which
// runc joins too (systemd and cgroup.kill live there). Resources go to the hierarchy of
// their controller; one asked for on a host that does not mount that controller is an
// error, not a silent no-op.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Timeout } from '../../errors.js';
import type { CgroupManager, CgroupPaths, CgroupSpec, SelfJoin } from '../manager.js';
import { mkdirCgroup, readCgroupFile, unsupported, writeCgroupFile } from '../fs.js';
import { setPids } from '../pids.js';
import { setRdma } from '../rdma.js';
import { bestEffortDevices, refuseUnjoined } from '../rootless.js';
import { controllersFor, type Resources } from '../resources.js';
import { emptyStats, type Stats } from '../stats.js';
import { allPids, removeTree } from '../tree.js';
import { setBlkio } from './blkio.js';
import { setCpu } from './cpu.js';
import { prepareCpuset, setCpuset } from './cpuset.js';
import { applyDeviceRules } from './devices.js';
import { setHugetlb } from './hugetlb.js';
import { setMemory } from './memory.js';
import { setNetCls, setNetPrio } from './net.js';
import { watchOomV1 } from './oom.js';
import { hugetlbStats } from '../hugetlb-stats.js';
import { blkioStats, cpuacctStats, cpuStats, cpusetStats, memoryStats, pidsStats } from './stats.js';

export class V1Manager implements CgroupManager {
  constructor(readonly paths: CgroupPaths) {}

  private dirs(): string[] {
    const dirs = Object.values(this.paths.v1);
    if (this.paths.unified) dirs.push(this.paths.unified);
    return dirs;
  }

  private dir(controller: string): string | undefined {
    for (const [key, dir] of Object.entries(this.paths.v1)) {
      if (key.split(',').includes(controller)) return dir;
    }
    return undefined;
  }

  /** Refuses what this host cannot apply, before anything is created. */
  private check(r: Resources): void {
    refuseUnjoined(this.paths, r);
    for (const [controller, field] of controllersFor(r)) {
      if (!this.dir(controller)) throw unsupported(field, `the ${controller} cgroup controller is not mounted on this host`);
    }
    if (r.unified && Object.keys(r.unified).length) {
      // runc's words, which callers match
      throw unsupported('unified', "invalid configuration: cannot use unified on cgroup v1 (this host's controllers are on cgroup v1)");
    }
  }

  create(spec: CgroupSpec): void {
    const r = spec.resources ?? {};
    this.check(r);
    for (const dir of this.dirs()) mkdirCgroup(dir);
    const cpuset = this.dir('cpuset');
    if (cpuset) prepareCpuset(cpuset);
    const devicesDir = this.dir('devices');
    if (devicesDir && spec.rootless) bestEffortDevices(() => applyDeviceRules(devicesDir, spec.devices));
    else if (devicesDir) applyDeviceRules(devicesDir, spec.devices);
    this.set(r);
  }

  set(r: Resources): void {
    this.check(r);
    const at = (controller: string, fn: (dir: string) => void): void => {
      const dir = this.dir(controller);
      if (dir) fn(dir);
    };
    // runc's order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma
    at('cpuset', (d) => setCpuset(d, r.cpu));
    at('memory', (d) => setMemory(d, r.memory));
    at('cpu', (d) => setCpu(d, r.cpu));
    at('pids', (d) => setPids(d, r.pids));
    at('blkio', (d) => setBlkio(d, r.blockIO));
    at('hugetlb', (d) => setHugetlb(d, r.hugepageLimits));
    at('net_cls', (d) => setNetCls(d, r.network));
    at('net_prio', (d) => setNetPrio(d, r.network));
    at('rdma', (d) => setRdma(d, r.rdma));
  }

  selfJoin(): SelfJoin {
    const tasks = [...new Set(Object.values(this.paths.v1))].filter((d) => existsSync(d)).map((d) => path.join(d, 'tasks'));
    const unified = this.paths.unified;
    return unified && existsSync(unified) ? { tasks, dir: unified } : { tasks };
  }

  addProcess(pid: number, joined?: SelfJoin): void {
    for (const dir of this.dirs()) {
      if (dir === this.paths.unified ? joined?.dir === dir : joined?.tasks.includes(path.join(dir, 'tasks'))) continue;
      writeCgroupFile(path.join(dir, 'cgroup.procs'), String(pid));
    }
  }

  procs(): number[] {
    const all = new Set<number>();
    for (const dir of this.dirs()) allPids(dir, all);
    return [...all];
  }

  exists(): boolean {
    return this.dirs().some((d) => existsSync(d));
  }

  async freeze(): Promise<void> {
    await this.setFreezer('FROZEN');
  }

  async thaw(): Promise<void> {
    await this.setFreezer('THAWED');
  }

  canFreeze(): boolean {
    return this.dir('freezer') !== undefined;
  }

  isFrozen(): boolean {
    const dir = this.dir('freezer');
    if (!dir || !existsSync(dir)) return false;
    return readCgroupFile(path.join(dir, 'freezer.state')).trim() === 'FROZEN';
  }

  private async setFreezer(state: 'FROZEN' | 'THAWED'): Promise<void> {
    const dir = this.dir('freezer');
    if (!dir) return;
    const file = path.join(dir, 'freezer.state');
    // FREEZING means some task has not stopped yet; asking again nudges the kernel on.
    for (let i = 0; i < 1000; i++) {
      writeCgroupFile(file, state);
      if (readCgroupFile(file).trim() === state) return;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Timeout(`cgroup ${dir} did not reach ${state}`, { path: dir });
  }

  killAll(): boolean {
    // v1 has no cgroup.kill; runc 1.1 signals process by process on v1 and hybrid hosts.
    return false;
  }

  stats(): Stats {
    const s = emptyStats();
    const at = (controller: string, fn: (dir: string) => void): void => {
      const dir = this.dir(controller);
      if (dir && existsSync(dir)) fn(dir);
    };
    at('cpu', (d) => cpuStats(d, s));
    at('cpuacct', (d) => cpuacctStats(d, s));
    at('cpuset', (d) => cpusetStats(d, s));
    at('memory', (d) => memoryStats(d, s));
    at('pids', (d) => pidsStats(d, s));
    at('blkio', (d) => blkioStats(d, s));
    at('hugetlb', (d) => hugetlbStats(d, s));
    return s;
  }

  watchOom(onOom: () => void, onEnd: () => void): () => void {
    const dir = this.dir('memory');
    if (!dir) throw unsupported('memory', 'the memory cgroup controller is not mounted: no OOM notifications');
    return watchOomV1(dir, onOom, onEnd);
  }

  async destroy(): Promise<void> {
    for (const dir of this.dirs()) await removeTree(dir);
  }
}

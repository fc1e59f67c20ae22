// cgroup v1: a directory per hierarchy, plus hybrid's controller-less unified tree, which
// runc joins too (systemd and cgroup.kill live there).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { CgroupManager, CgroupPaths, DeviceRule } from '../manager.js';
import { mkdirCgroup, readCgroupFile, readPids, removeCgroup, writeCgroupFile } from '../fs.js';
import { applyDeviceRules } from './devices.js';
import { prepareCpuset } from './cpuset.js';

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

  create(devices: DeviceRule[]): void {
    for (const dir of this.dirs()) mkdirCgroup(dir);
    const cpuset = this.dir('cpuset');
    if (cpuset) prepareCpuset(cpuset);
    const devicesDir = this.dir('devices');
    if (devicesDir) applyDeviceRules(devicesDir, devices);
  }

  addProcess(pid: number): void {
    for (const dir of this.dirs()) writeCgroupFile(path.join(dir, 'cgroup.procs'), String(pid));
  }

  procs(): number[] {
    const all = new Set<number>();
    for (const dir of this.dirs()) {
      if (existsSync(dir)) for (const pid of readPids(path.join(dir, 'cgroup.procs'))) all.add(pid);
    }
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
    throw new Error(`cgroup ${dir} did not reach ${state}`);
  }

  async destroy(): Promise<void> {
    for (const dir of this.dirs()) {
      if (!existsSync(dir)) continue;
      // Sub-cgroups a container made for itself go first.
      for (const child of readdirSync(dir, { withFileTypes: true })) {
        if (child.isDirectory()) await removeTree(path.join(dir, child.name));
      }
      await removeCgroup(dir);
    }
  }
}

async function removeTree(dir: string): Promise<void> {
  for (const child of readdirSync(dir, { withFileTypes: true })) {
    if (child.isDirectory()) await removeTree(path.join(dir, child.name));
  }
  await removeCgroup(dir);
}

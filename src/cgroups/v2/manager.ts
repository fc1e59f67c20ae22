// Unified cgroup v2: one directory. Freezing is cgroup.freeze, confirmed by cgroup.events.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Unimplemented } from '../../errors.js';
import type { CgroupManager, CgroupPaths, DeviceRule } from '../manager.js';
import { mkdirCgroup, readCgroupFile, readPids, removeCgroup, writeCgroupFile } from '../fs.js';

export class V2Manager implements CgroupManager {
  constructor(readonly paths: CgroupPaths) {}

  private get dir(): string {
    if (!this.paths.unified) throw new Error('no unified cgroup path');
    return this.paths.unified;
  }

  create(devices: DeviceRule[]): void {
    // A v2 device policy needs an eBPF program; until the native core builds one, say so
    // rather than run the container with every device open.
    if (devices.length > 0) {
      throw new Unimplemented('linux.resources.devices: device rules on a cgroup v2 host need the eBPF device filter, not built yet', {
        field: 'linux.resources.devices',
      });
    }
    mkdirCgroup(this.dir);
  }

  addProcess(pid: number): void {
    writeCgroupFile(path.join(this.dir, 'cgroup.procs'), String(pid));
  }

  procs(): number[] {
    return existsSync(this.dir) ? readPids(path.join(this.dir, 'cgroup.procs')) : [];
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

  private async setFrozen(frozen: boolean): Promise<void> {
    writeCgroupFile(path.join(this.dir, 'cgroup.freeze'), frozen ? '1' : '0');
    const want = `frozen ${frozen ? 1 : 0}`;
    for (let i = 0; i < 1000; i++) {
      if (readCgroupFile(path.join(this.dir, 'cgroup.events')).split('\n').includes(want)) return;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`cgroup ${this.dir} did not reach "${want}"`);
  }

  async destroy(): Promise<void> {
    if (!existsSync(this.dir)) return;
    const walk = async (dir: string): Promise<void> => {
      for (const child of readdirSync(dir, { withFileTypes: true })) {
        if (child.isDirectory()) await walk(path.join(dir, child.name));
      }
      await removeCgroup(dir);
    };
    await walk(this.dir);
  }
}

// Bundles: a private copy of the rootfs with the probe in it, and a config.json. Every
// bundle lives in its scenario's work directory, which is removed (and unmounted, should a
// runtime have left a mount behind) when the scenario ends.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROBE, type Config } from './config.js';

export interface BundleOptions {
  /** runtime-tools' layout: config.json inside the rootfs and root.path "." */
  rootIsBundle?: boolean;
}

export class Bundle {
  /** the bundle directory passed to create --bundle */
  readonly dir: string;
  readonly rootfs: string;
  config: Config;

  constructor(
    readonly work: string,
    readonly id: string,
    config: Config,
    rootfs: string,
    probe: string,
    opts: BundleOptions = {},
  ) {
    const base = path.join(work, id);
    mkdirSync(base, { recursive: true });
    if (opts.rootIsBundle) {
      this.dir = path.join(base, 'bundle');
      this.rootfs = this.dir;
      config.root = { ...(config.root ?? {}), path: '.' };
    } else {
      this.dir = path.join(base, 'bundle');
      this.rootfs = path.join(this.dir, 'rootfs');
      mkdirSync(this.dir);
    }
    execFileSync('cp', ['-a', rootfs, this.rootfs]);
    const dest = path.join(this.rootfs, PROBE);
    mkdirSync(path.dirname(dest), { recursive: true });
    copyFileSync(probe, dest);
    chmodSync(dest, 0o755);
    this.config = config;
    this.write();
  }

  /** files next to the bundle, for a container's stdio, hooks' output and the like */
  file(name: string): string {
    return path.join(this.work, this.id, name);
  }

  write(): void {
    writeFileSync(path.join(this.dir, 'config.json'), JSON.stringify(this.config, null, 2));
  }

  edit(fn: (c: Config) => void): this {
    fn(this.config);
    this.write();
    return this;
  }

  /** A path inside the rootfs, as the host sees it. */
  inRootfs(p: string): string {
    return path.join(this.rootfs, p);
  }
}

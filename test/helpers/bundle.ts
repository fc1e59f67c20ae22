// Bundles for tests: a private copy of the busybox fixture and runc spec's default config,
// adjusted so the container runs a command (no terminal) in a cgroup under the test parent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { defaultSpec } from '../../src/oci/defaults.js';
import { fixtureRootfs, TEST_CGROUP_PARENT } from './paths.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyConfig = Record<string, any>;

let counter = 0;

export function uniqueId(name: string): string {
  return `t${process.pid}-${++counter}-${name}`;
}

export class TestBundle {
  readonly dir: string;
  readonly rootfs: string;
  readonly id: string;
  /** a state root of this test's own */
  readonly root: string;
  config: AnyConfig;

  constructor(name: string, args: string[] = ['/usr/local/bin/probe']) {
    this.id = uniqueId(name);
    this.dir = mkdtempSync(path.join(os.tmpdir(), `tsrun-${name}-`));
    this.rootfs = path.join(this.dir, 'rootfs');
    this.root = path.join(this.dir, 'state');
    execFileSync('cp', ['-a', fixtureRootfs, this.rootfs]);
    this.config = defaultSpec() as AnyConfig;
    this.config.process.terminal = false;
    this.config.process.args = args;
    this.config.linux.cgroupsPath = `/${TEST_CGROUP_PARENT}/${this.id}`;
    this.write();
  }

  write(): void {
    writeFileSync(path.join(this.dir, 'config.json'), JSON.stringify(this.config, null, 2));
  }

  /** Changes the config and writes it. */
  edit(fn: (c: AnyConfig) => void): this {
    fn(this.config);
    this.write();
    return this;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Call at a file's top level: returns a maker of bundles, each taken back after the test
 * that made it (`cleanup` first, say a forced delete of its container, then its directory).
 */
export function bundlesPerTest(cleanup: (b: TestBundle) => Promise<unknown>): (name: string, args?: string[]) => TestBundle {
  const made: TestBundle[] = [];
  afterEach(async () => {
    for (const b of made.splice(0)) {
      await cleanup(b).catch(() => undefined);
      b.remove();
    }
  });
  return (name, args) => {
    const b = new TestBundle(name, args);
    made.push(b);
    return b;
  };
}

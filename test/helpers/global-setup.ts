// Integration tests need root and the fixtures `npm test`'s set-up builds. At the end,
// the cgroup parent the tests used is removed from every hierarchy (only if empty: a
// container a test failed to delete stays visible).
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { fixtureRootfs, TEST_CGROUP_PARENT } from './paths.js';
import { sweepTestUsers } from './unprivileged.js';

export function setup(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the tests create namespaces, mounts and cgroups: run them as root (npm test)');
  }
  if (!existsSync(fixtureRootfs)) throw new Error(`${fixtureRootfs} is missing: run npm test (or scripts/setup.sh) first`);
  // Users a killed run of the rootless tests left (their creating process is gone).
  sweepTestUsers();
}

export function teardown(): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', h, TEST_CGROUP_PARENT);
    try {
      if (existsSync(dir)) rmdirSync(dir);
    } catch {
      // not empty: a leak, which the tests themselves report
    }
  }
}

// Integration tests need root and the fixtures `npm test`'s set-up builds. The run's tsrun
// calls go to a CLI server of its own (TSRUN_SERVER_DIR, which the workers inherit), ended
// at the end. Then the cgroup parent the tests used is removed from every hierarchy (only if
// empty: a container a test failed to delete stays visible).
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import os from 'node:os';
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
  serverDir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-server-'));
  chmodSync(serverDir, 0o700);
  process.env.TSRUN_SERVER_DIR = serverDir;
}

let serverDir: string | undefined;

/** Pids of the processes listening on a unix socket in dir (its CLI servers). */
export function listenersIn(dir: string): number[] {
  const inodes = new Set(
    readFileSync('/proc/net/unix', 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[7]?.startsWith(`${dir}/`) && f[3] === '00010000')
      .map((f) => `socket:[${f[6]}]`),
  );
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readdirSync(`/proc/${p}/fd`).some((fd) => inodes.has(readlinkSync(`/proc/${p}/fd/${fd}`)))) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids;
}

export function teardown(): void {
  if (serverDir) {
    for (const pid of listenersIn(serverDir)) process.kill(pid, 'SIGTERM');
    rmSync(serverDir, { recursive: true, force: true });
  }
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', h, TEST_CGROUP_PARENT);
    try {
      if (existsSync(dir)) rmdirSync(dir);
    } catch {
      // not empty: a leak, which the tests themselves report
    }
  }
}

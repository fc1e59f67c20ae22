// Escape class CVE-2024-21626 (second half): process.cwd through /proc/self/fd/N. If any
// fd the runtime holds at chdir time names a host directory, the program starts outside the
// rootfs and `..` walks the host. Every N a runtime might hold is tried in create and in
// exec; and a host directory fd is handed in on purpose with --preserve-fds, which shows the
// class for sure: the runtime must refuse a cwd outside the container's root. Debian's runc
// 1.1.5 carries the CVE-2024-21626 fix ("possible container breakout detected"), so its run
// shows the test passing for a fixed runtime; tsrun before its getcwd check failed the
// preserved-fd case (the container read a host file through its cwd).
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { RUNTIMES } from '../helpers/runtimes.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

/** Prints the cwd, and ESCAPED if the host marker is reachable from it. */
function probe(marker: string): string[] {
  return ['sh', '-c', `echo cwd=$(readlink /proc/self/cwd); [ -e ${'../'.repeat(12)}${marker.slice(1)} ] && echo ESCAPED; exit 0`];
}

describe.each(RUNTIMES)('process.cwd through /proc/self/fd under $name', (rt) => {
  it('never leaves the rootfs in create or exec', async () => {
    const b = new TestBundle(`cwd-${rt.name}`, ['sleep', '100000']);
    bundles.push(b);
    const root = path.join(b.dir, `${rt.name}-state`);
    const marker = path.join(b.dir, 'host-marker');
    writeFileSync(marker, '');
    const fdDir = path.join(b.dir, 'host-dir', 'a', 'b');
    mkdirSync(fdDir, { recursive: true });

    const checkRun = async (n: number, extraFds: number[] = []): Promise<void> => {
      b.edit((c) => {
        c.process.cwd = `/proc/self/fd/${n}`;
        c.process.args = probe(marker);
      });
      const r = await rt.cli(root, ['run', '--preserve-fds', String(extraFds.length), '--bundle', b.dir, `${b.id}-${n}`], { extraFds });
      // Refused, or started inside the rootfs.
      expect(r.stdout, `cwd /proc/self/fd/${n}`).not.toContain('ESCAPED');
      if (r.code === 0) expect(r.stdout).toMatch(/^cwd=\//);
      else expect(r.stderr).toMatch(/cwd|working directory|\/proc\/self\/fd/);
      await rt.cli(root, ['delete', '--force', `${b.id}-${n}`]);
    };
    for (let n = 3; n <= 7; n++) await checkRun(n);
    const dirFd = openSync(fdDir, 'r');
    try {
      await checkRun(3, [dirFd]);
    } finally {
      closeSync(dirFd);
    }

    b.edit((c) => {
      c.process.cwd = '/';
      c.process.args = ['sleep', '100000'];
    });
    expect((await rt.cli(root, ['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
    try {
      for (let n = 3; n <= 7; n++) {
        const r = await rt.cli(root, ['exec', '--cwd', `/proc/self/fd/${n}`, b.id, ...probe(marker)]);
        expect(r.stdout, `exec --cwd /proc/self/fd/${n}`).not.toContain('ESCAPED');
        if (r.code === 0) expect(r.stdout).toMatch(/^cwd=\//);
      }
      const dirFd2 = openSync(fdDir, 'r');
      try {
        const r = await rt.cli(root, ['exec', '--preserve-fds', '1', '--cwd', '/proc/self/fd/3', b.id, ...probe(marker)], { extraFds: [dirFd2] });
        expect(r.stdout).not.toContain('ESCAPED');
        expect(r.code).not.toBe(0);
      } finally {
        closeSync(dirFd2);
      }
    } finally {
      await rt.cli(root, ['delete', '--force', b.id]);
    }
  }, 180_000);
});

// A user-namespaced container's bind mounts whose host sources sit under a directory only
// the host's root may search (0700, root's): runc 1.1 opens mount sources before the
// container's root could be refused them, and so does tsrun-init (cpp/init/bind-sources.h).
// Two such mounts, a directory and a file, then an exec, side by side with runc 1.1.5.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle, type AnyConfig } from '../helpers/bundle.js';
import { runc, tsrun, type Result } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

function bundle(): TestBundle {
  const b = new TestBundle('userns-src', ['/bin/sleep', '1000']);
  bundles.push(b);
  const secret = path.join(b.dir, 'secret');
  mkdirSync(path.join(secret, 'd'), { recursive: true });
  writeFileSync(path.join(secret, 'd', 'f'), 'in a directory\n');
  writeFileSync(path.join(secret, 'file'), 'a file\n');
  chmodSync(path.join(secret, 'd'), 0o755);
  chmodSync(secret, 0o700);
  // the container's root must reach its rootfs; the mount points exist, as neither runtime
  // may make them in a rootfs the container's ids do not own
  chmodSync(b.dir, 0o755);
  mkdirSync(path.join(b.rootfs, 'mnt', 'd'), { recursive: true });
  writeFileSync(path.join(b.rootfs, 'mnt', 'file'), '');
  b.edit((c: AnyConfig) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.root.readonly = false;
    c.mounts.push(
      { destination: '/mnt/d', type: 'bind', source: path.join(secret, 'd'), options: ['rbind', 'ro'] },
      { destination: '/mnt/file', type: 'bind', source: path.join(secret, 'file'), options: ['bind', 'ro'] },
    );
  });
  return b;
}

describe('bind sources only the host\'s root may reach, in a user namespace', () => {
  it('two mounts, then an exec: as runc 1.1.5', async () => {
    const b = bundle();
    const outcomes: Array<Record<string, Pick<Result, 'code' | 'stdout'>>> = [];
    for (const cli of [(args: string[]) => runc(path.join(b.dir, 'runc-state'), args), (args: string[]) => tsrun(b.root, args)]) {
      const run = await cli(['run', '-d', '--bundle', b.dir, b.id]);
      const seen: Record<string, Pick<Result, 'code' | 'stdout'>> = { run: { code: run.code, stdout: '' } };
      if (run.code === 0) {
        try {
          for (const [what, args] of [
            ['read', ['cat', '/mnt/d/f', '/mnt/file']],
            ['ids', ['sh', '-c', 'id -u; head -1 /proc/self/uid_map']],
            ['read-only', ['sh', '-c', 'touch /mnt/d/x 2>/dev/null || echo refused']],
          ] as const) {
            const r = await cli(['exec', b.id, ...args]);
            seen[what] = { code: r.code, stdout: r.stdout };
          }
        } finally {
          await cli(['delete', '--force', b.id]);
        }
      }
      outcomes.push(seen);
      expect(leftoverCgroups(b.id)).toEqual([]);
      expect(leftoverMounts(b.rootfs)).toEqual([]);
    }
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[1]).toEqual({
      run: { code: 0, stdout: '' },
      read: { code: 0, stdout: 'in a directory\na file\n' },
      ids: { code: 0, stdout: expect.stringMatching(/^0\n\s+0\s+200000\s+65536\n$/) as unknown as string },
      'read-only': { code: 0, stdout: 'refused\n' },
    });
  });
});

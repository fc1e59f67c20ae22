// Escape class: masked paths unmasked through /proc (CVE-2019-19921's family). The default
// masks hold and cannot be lifted from inside; a bind over /proc (which would replace the
// whole procfs, masks and all) or inside it is refused, as runc refuses it; a rootfs whose
// /proc is a symlink cannot move the procfs mount elsewhere; a masked path whose target is a
// symlink out of the rootfs masks nothing on the host; and a destination that reaches into
// /proc through a symlink cannot cover procfs files. runc 1.1.5 passes every case but the
// last: it mounts a tmpfs over /proc/sys/kernel through the symlink, which this test detects.
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { leftoverMounts } from '../helpers/leaks.js';
import { RUNTIMES } from '../helpers/runtimes.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

function bundle(name: string, args: string[]): TestBundle {
  const b = new TestBundle(name, args);
  bundles.push(b);
  return b;
}

const PROBE = [
  'for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats; do [ -e $p ] && echo "$p $(cat $p | wc -c)"; done',
  'echo acpi $(ls /proc/acpi 2>/dev/null | wc -l)',
  'umount /proc/keys 2>/dev/null && echo UNMASKED',
  'umount -l /proc/kcore 2>/dev/null && echo UNMASKED',
  'mount -t proc proc /tmp 2>/dev/null && echo NEWPROC',
  'echo fs $(stat -f -c %T /proc)',
].join('; ');

describe.each(RUNTIMES)('masked paths under $name', (rt) => {
  it('stay masked and cannot be lifted from inside', async () => {
    const b = bundle(`mask-${rt.name}`, ['sh', '-c', PROBE]);
    const r = await rt.cli(path.join(b.dir, 'state-rt'), ['run', '--bundle', b.dir, b.id]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    for (const l of lines.filter((x) => x.startsWith('/proc/'))) expect(l).toMatch(/ 0$/);
    expect(lines).toContain('acpi 0');
    expect(lines).toContain('fs proc');
    expect(r.stdout).not.toMatch(/UNMASKED|NEWPROC/);
  });

  it('refuse a bind over /proc and inside it', async () => {
    const b = bundle(`procbind-${rt.name}`, ['true']);
    const fake = path.join(b.dir, 'fakeproc');
    mkdirSync(fake);
    for (const dest of ['/proc', '/proc/sys/kernel/hostname', '/proc/self/attr']) {
      b.edit((c) => {
        c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/proc/') || m.destination === '/proc');
        c.mounts.push({ destination: dest, type: 'bind', source: dest === '/proc' ? fake : path.join(b.dir, 'config.json'), options: ['rbind'] });
      });
      const root = path.join(b.dir, 'state-rt');
      const r = await rt.cli(root, ['run', '--bundle', b.dir, b.id]);
      expect(r.code, dest).not.toBe(0);
      expect(r.stderr).toMatch(/not of type proc|inside \/proc/);
      await rt.cli(root, ['delete', '--force', b.id]);
      b.edit((c) => c.mounts.pop());
      expect(leftoverMounts(b.dir)).toEqual([]);
    }
  });

  it('hold when the rootfs /proc is a symlink', async () => {
    const b = bundle(`procsym-${rt.name}`, ['sh', '-c', PROBE]);
    renameSync(path.join(b.rootfs, 'proc'), path.join(b.rootfs, 'fakeproc'));
    writeFileSync(path.join(b.rootfs, 'fakeproc', 'kcore'), 'not masked\n');
    symlinkSync('/fakeproc', path.join(b.rootfs, 'proc'));
    const root = path.join(b.dir, 'state-rt');
    const r = await rt.cli(root, ['run', '--bundle', b.dir, b.id]);
    // Both refuse ("must be mounted on an ordinary directory"); a run would have to show masks.
    if (r.code === 0) {
      expect(r.stdout).toContain('fs proc');
      expect(r.stdout).not.toContain('/proc/kcore 11');
    } else {
      expect(r.stderr).toMatch(/ordinary directory|symbolic link/);
    }
    await rt.cli(root, ['delete', '--force', b.id]);
    expect(leftoverMounts(b.dir)).toEqual([]);
  });

  it('mask nothing on the host through a symlinked masked path', async () => {
    const b = bundle(`masksym-${rt.name}`, ['true']);
    const hostFile = path.join(b.dir, 'host-secret');
    writeFileSync(hostFile, 'host\n');
    symlinkSync(hostFile, path.join(b.rootfs, 'masked-link'));
    symlinkSync(`${'../'.repeat(10)}${hostFile.slice(1)}`, path.join(b.rootfs, 'masked-rel'));
    b.edit((c) => c.linux.maskedPaths.push('/masked-link', '/masked-rel'));
    const root = path.join(b.dir, 'state-rt');
    const r = await rt.cli(root, ['create', '--bundle', b.dir, b.id]);
    expect(leftoverMounts(hostFile)).toEqual([]);
    expect(readFileSync(hostFile, 'utf8')).toBe('host\n');
    if (r.code !== 0) expect(r.stderr).toMatch(/masked|maskedPaths/);
    await rt.cli(root, ['delete', '--force', b.id]);
    expect(leftoverMounts(b.dir)).toEqual([]);
  });

  it('cannot cover procfs through a destination that is a symlink into /proc', async () => {
    const b = bundle(`procvia-${rt.name}`, ['sh', '-c', 'grep -c " /proc/sys/kernel " /proc/self/mountinfo; exit 0']);
    mkdirSync(path.join(b.rootfs, 'mnt'), { recursive: true });
    symlinkSync('/proc/sys/kernel', path.join(b.rootfs, 'mnt', 'pk'));
    b.edit((c) => c.mounts.push({ destination: '/mnt/pk', type: 'tmpfs', source: 'tmpfs' }));
    const root = path.join(b.dir, 'state-rt');
    const r = await rt.cli(root, ['run', '--bundle', b.dir, b.id]);
    const covered = r.code === 0 && r.stdout.trim() !== '0';
    // tsrun refuses, naming the mount; runc 1.1.5 covers /proc/sys/kernel, and the check sees it.
    expect(covered).toBe(rt.name === 'runc');
    if (rt.name === 'tsrun') expect(r.stderr).toContain('/mnt/pk cannot be mounted because it is inside /proc');
    await rt.cli(root, ['delete', '--force', b.id]);
  });
});

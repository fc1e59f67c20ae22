// config.md#root and #mounts (with config-linux.md#default-filesystems): the container's
// file system, as the probe inside sees it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { probeArgs } from '../lib/config.js';
import type { Facts } from '../lib/facts.js';
import { scenario, type Scenario } from '../lib/scenario.js';

/** A directory on the host with one marker file, to bind into containers. */
function hostDir(s: Scenario, name: string, marker = 'marker'): string {
  const dir = path.join(s.work, name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(path.join(dir, marker), 'from the host\n');
  return dir;
}


export const root = scenario({
  section: 'config.md#root',
  name: 'root',
  checks: {
    'path-absolute': 'an absolute root.path is the root of the container',
    'path-dot': 'root.path "." with config.json inside the rootfs (runtime-tools\' layout) works',
    'path-missing': 'a root.path where no directory exists generates an error',
  },
  async run(s) {
    await Promise.all([
      s.probe(
        'path-absolute',
        (c, b) => {
          writeFileSync(path.join(b.rootfs, 'which-root'), 'absolute\n');
          c.root.path = b.rootfs;
          c.process.args = probeArgs(['stat', '/which-root']);
        },
        (f) => s.ok('path-absolute', f.stat('/which-root')?.type === 'file', `stat: ${f.get('stat /which-root')}`),
      ),
      s.probe(
        'path-dot',
        (c) => (c.process.args = probeArgs(['stat', '/config.json'])),
        (f) => s.ok('path-dot', f.stat('/config.json')?.type === 'file', `stat /config.json in the container: ${f.get('stat /config.json')}`),
        { rootIsBundle: true },
      ),
      s.bundle((c) => (c.root.path = 'no-such-rootfs')).then((b) => s.expectError('path-missing', b, 'root.path "no-such-rootfs"')),
    ]);
  },
});

export const root_readonly = scenario({
  section: 'config.md#root',
  name: 'root_readonly_true',
  checks: {
    'readonly-true': 'root.readonly true makes / read-only',
    'readonly-false': 'root.readonly false leaves / writable',
  },
  async run(s) {
    await Promise.all([
      s.probe(
        'readonly-true',
        (c) => {
          c.root.readonly = true;
          c.process.args = probeArgs(['write', '/', '/etc/hostname']);
        },
        (f) => {
          s.equal('readonly-true', f.get('write /'), 'error EROFS', '/');
          s.equal('readonly-true', f.get('write /etc/hostname'), 'error EROFS', '/etc/hostname');
        },
      ),
      s.probe(
        'readonly-false',
        (c) => {
          c.root.readonly = false;
          c.process.args = probeArgs(['write', '/', '/etc/hostname']);
        },
        (f) => {
          s.equal('readonly-false', f.get('write /'), 'ok', '/');
          s.equal('readonly-false', f.get('write /etc/hostname'), 'ok', '/etc/hostname');
        },
      ),
    ]);
  },
});

export const mounts = scenario({
  section: 'config.md#mounts',
  name: 'mounts',
  checks: {
    order: 'mounts are made in the listed order (a later mount hides an earlier one; a nested one needs its parent)',
    tmpfs: 'a tmpfs mount has its type, per-mount flags (nosuid, nodev, noexec) and data (size, mode)',
    bind: 'a bind mount shows its source directory',
    'bind-file': 'a bind mount of a single file shows the file',
    'bind-relative': 'a bind source relative to the bundle is found there',
    'bind-ro': 'a bind mount with "ro" is read-only',
    'type-omitted': 'a bind mount with no type works (type is OPTIONAL)',
  },
  async run(s) {
    const src = hostDir(s, 'src');
    const srcFile = path.join(s.work, 'src-file');
    writeFileSync(srcFile, 'a single file\n');
    const b = await s.bundle((c, bd) => {
      mkdirSync(path.join(bd.dir, 'rel-src'));
      writeFileSync(path.join(bd.dir, 'rel-src', 'relative-marker'), 'relative\n');
      c.mounts.push(
        { destination: '/mnt/order', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/mnt/order', type: 'bind', source: src, options: ['bind'] },
        { destination: '/mnt/nest', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/mnt/nest/inner', type: 'tmpfs', source: 'tmpfs', options: ['size=2m'] },
        { destination: '/mnt/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1770', 'size=1m'] },
        { destination: '/mnt/bind', type: 'bind', source: src, options: ['rbind'] },
        { destination: '/mnt/file', type: 'bind', source: srcFile, options: ['bind'] },
        { destination: '/mnt/rel', type: 'bind', source: 'rel-src', options: ['bind'] },
        { destination: '/mnt/ro', type: 'bind', source: src, options: ['bind', 'ro'] },
        { destination: '/mnt/notype', source: src, options: ['rbind'] },
      );
      c.process.args = probeArgs(
        ['mounts'],
        ['stat', '/mnt/order/marker', '/mnt/tmp', '/mnt/bind/marker', '/mnt/file', '/mnt/rel/relative-marker', '/mnt/notype/marker'],
        ['read', '/mnt/file'],
        ['write', '/mnt/ro', '/mnt/ro/marker', '/mnt/bind'],
      );
    });
    const f = await s.container(b).run();
    // the tmpfs listed first would hide the marker, had it been mounted last
    s.equal('order', f.stat('/mnt/order/marker')?.type, 'file', '/mnt/order/marker');
    s.equal('order', f.mountAt('/mnt/nest/inner')?.fstype, 'tmpfs', '/mnt/nest/inner');
    const t = f.mountAt('/mnt/tmp');
    s.equal('tmpfs', t?.fstype, 'tmpfs', 'type');
    for (const o of ['nosuid', 'nodev', 'noexec']) s.ok('tmpfs', t?.options.includes(o) ?? false, `${o} not among ${t?.options.join(',')}`);
    s.ok('tmpfs', t?.superOptions.includes('size=1024k') ?? false, `size=1024k not among ${t?.superOptions.join(',')}`);
    s.equal('tmpfs', f.stat('/mnt/tmp')?.mode, '1770', 'mode of its root');
    s.equal('bind', f.stat('/mnt/bind/marker')?.type, 'file', '/mnt/bind/marker');
    s.equal('bind-file', f.get('read /mnt/file'), `bytes=${'a single file\n'.length}`);
    s.equal('bind-relative', f.stat('/mnt/rel/relative-marker')?.type, 'file', '/mnt/rel/relative-marker');
    s.equal('bind-ro', f.get('write /mnt/ro'), 'error EROFS', 'new file in /mnt/ro');
    s.equal('bind-ro', f.get('write /mnt/ro/marker'), 'error EROFS', '/mnt/ro/marker');
    s.equal('bind-ro', f.get('write /mnt/bind'), 'ok', 'the same source bound rw at /mnt/bind');
    s.equal('type-omitted', f.stat('/mnt/notype/marker')?.type, 'file', '/mnt/notype/marker');
  },
});

export const mounts_recursive = scenario({
  section: 'config.md#mounts',
  name: 'mounts',
  checks: {
    rbind: '"rbind" carries the mounts under its source, "bind" does not',
    rro: '"rro" makes every mount under a bind read-only (runtime-spec 1.1 recursive options)',
    propagation: 'a propagation option ("shared") applies to the mount',
  },
  async run(s) {
    const src = hostDir(s, 'rsrc');
    const sub = path.join(src, 'sub');
    mkdirSync(sub);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'oci-conf-sub', sub]);
    s.defer(() => void execFileSync('umount', ['-l', sub]));
    writeFileSync(path.join(sub, 'submarker'), 'in the submount\n');
    const b = await s.bundle((c) => {
      c.mounts.push(
        { destination: '/mnt/bind', type: 'bind', source: src, options: ['bind'] },
        { destination: '/mnt/rbind', type: 'bind', source: src, options: ['rbind'] },
        { destination: '/mnt/rro', type: 'bind', source: src, options: ['rbind', 'rro'] },
        { destination: '/mnt/shared', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'shared'] },
      );
      c.process.args = probeArgs(['mounts'], ['stat', '/mnt/bind/sub/submarker', '/mnt/rbind/sub/submarker'], ['write', '/mnt/rro', '/mnt/rro/sub', '/mnt/rbind/sub']);
    });
    let f: Facts | undefined;
    await s.part(['rbind', 'rro', 'propagation'], async () => void (f = await s.container(b).run()));
    if (!f) return;
    s.equal('rbind', f.stat('/mnt/rbind/sub/submarker')?.type, 'file', 'the submount under rbind');
    s.equal('rbind', f.stat('/mnt/bind/sub/submarker')?.error, 'ENOENT', 'the submount under bind');
    s.equal('rro', f.get('write /mnt/rro'), 'error EROFS', 'top of the rro bind');
    s.equal('rro', f.get('write /mnt/rro/sub'), 'error EROFS', 'submount under the rro bind');
    s.equal('rro', f.get('write /mnt/rbind/sub'), 'ok', 'the same submount under rbind without rro');
    const shared = f.mountAt('/mnt/shared');
    s.ok('propagation', shared?.propagation.some((p) => p.startsWith('shared:')) ?? false, `/mnt/shared propagation: ${shared?.propagation.join(',')}`);
  },
});

export const mounts_inside_rootfs = scenario({
  section: 'config.md#mounts',
  name: 'mounts',
  checks: {
    'symlink-destination': 'a destination through a symlink is resolved inside the rootfs, never on the host',
    'invalid-type': 'a mount of a file system type the kernel does not know generates an error',
  },
  async run(s) {
    const outside = path.join(s.work, 'host-target');
    mkdirSync(outside);
    const b = await s.bundle((c, bd) => {
      // /escape -> <host path>: followed on the host it would mount over host-target/x
      symlinkSync(outside, path.join(bd.rootfs, 'escape'));
      c.mounts.push({ destination: '/escape/x', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.process.args = probeArgs(['mounts']);
    });
    const c = s.container(b);
    const created = await c.create();
    if (created.code === 0) {
      await c.startOk();
      await c.waitStopped();
      const inside = c.output().mounts().find((m) => m.point.endsWith('/x') && m.fstype === 'tmpfs');
      s.ok('symlink-destination', !existsSync(path.join(outside, 'x')), `the runtime made ${outside}/x on the host`);
      s.ok('symlink-destination', inside !== undefined && inside.point === path.join(outside, 'x'), `the tmpfs is at ${inside?.point ?? '(nowhere)'} in the container`);
    } else {
      // refusing the symlink is safe too; touching the host is not
      s.ok('symlink-destination', !existsSync(path.join(outside, 'x')), `the runtime made ${outside}/x on the host`);
    }
    const bad = await s.bundle((cfg) => cfg.mounts.push({ destination: '/mnt/bad', type: 'oci-no-such-fs', source: 'none' }));
    await s.expectError('invalid-type', bad, 'type "oci-no-such-fs"');
  },
});

export const default_filesystems = scenario({
  section: 'config-linux.md#default-filesystems',
  name: 'default_filesystems',
  checks: {
    proc: '/proc is a proc file system',
    sys: '/sys is a sysfs',
    'dev-pts': '/dev/pts is a devpts',
    'dev-shm': '/dev/shm is a tmpfs',
  },
  async run(s) {
    const f = await s.runProbe((c) => (c.process.args = probeArgs(['mounts'])));
    s.equal('proc', f.mountAt('/proc')?.fstype, 'proc');
    s.equal('sys', f.mountAt('/sys')?.fstype, 'sysfs');
    s.equal('dev-pts', f.mountAt('/dev/pts')?.fstype, 'devpts');
    s.equal('dev-shm', f.mountAt('/dev/shm')?.fstype, 'tmpfs');
  },
});

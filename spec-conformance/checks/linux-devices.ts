// config-linux.md#devices, #default-devices, #allowed-device-list and runtime-linux.md:
// device nodes, the ones every container gets, the device cgroup's order, the /dev links
// and the file descriptors a container starts with.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { probeArgs } from '../lib/config.js';
import type { Facts } from '../lib/facts.js';
import type { Bundle } from '../lib/bundle.js';
import { scenario } from '../lib/scenario.js';

export const linux_devices = scenario({
  section: 'config-linux.md#devices',
  name: 'linux_devices',
  checks: {
    char: 'a "c" device is a character device with its major, minor, fileMode, uid and gid',
    block: 'a "b" device is a block device with its numbers and mode',
    fifo: 'a "p" device is a FIFO',
    unbuffered: 'a "u" device is a character device',
    'outside-dev': 'a device path outside /dev is made there',
    'exists-mismatch': 'a file already at a device path that does not match the device generates an error',
  },
  async run(s) {
    const b = await s.bundle((c) => {
      c.linux.devices = [
        { path: '/dev/oci-char', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 1, gid: 2 },
        { path: '/dev/oci-block', type: 'b', major: 7, minor: 0, fileMode: 0o600, uid: 0, gid: 0 },
        { path: '/dev/oci-fifo', type: 'p', fileMode: 0o640 },
        { path: '/dev/oci-unbuffered', type: 'u', major: 1, minor: 5, fileMode: 0o666 },
      ];
      c.process.args = probeArgs(['stat', '/dev/oci-char', '/dev/oci-block', '/dev/oci-fifo', '/dev/oci-unbuffered']);
    });
    let f: Facts | undefined;
    try {
      f = await s.container(b).run();
    } catch (e) {
      for (const k of ['char', 'block', 'fifo', 'unbuffered']) s.ok(k, false, (e as Error).message);
    }
    if (f) {
      const pick = (p: string): Record<string, string | undefined> => {
        const st = f?.stat(p) ?? {};
        return { type: st.type, major: st.major, minor: st.minor, mode: st.mode, uid: st.uid, gid: st.gid, error: st.error };
      };
      s.equal('char', pick('/dev/oci-char'), { type: 'c', major: '1', minor: '3', mode: '0620', uid: '1', gid: '2', error: undefined });
      s.equal('block', pick('/dev/oci-block'), { type: 'b', major: '7', minor: '0', mode: '0600', uid: '0', gid: '0', error: undefined });
      s.equal('fifo', [f.stat('/dev/oci-fifo')?.type, f.stat('/dev/oci-fifo')?.mode], ['p', '0640']);
      s.equal('unbuffered', [f.stat('/dev/oci-unbuffered')?.type, f.stat('/dev/oci-unbuffered')?.major, f.stat('/dev/oci-unbuffered')?.minor], ['c', '1', '5']);
    }
    const outside = (): Promise<Bundle> =>
      s.bundle((c) => {
        c.linux.devices = [{ path: '/oci-devices/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
        c.process.args = probeArgs(['stat', '/oci-devices/null']);
      });
    try {
      const o = await s.container(await outside()).run();
      s.equal('outside-dev', [o.stat('/oci-devices/null')?.type, o.stat('/oci-devices/null')?.minor], ['c', '3']);
    } catch (e) {
      s.ok('outside-dev', false, (e as Error).message);
    }
    const clash = await s.bundle((c, bd) => {
      writeFileSync(path.join(bd.rootfs, 'oci-existing'), 'a regular file\n');
      c.linux.devices = [{ path: '/oci-existing', type: 'c', major: 1, minor: 3 }];
    });
    await s.expectError('exists-mismatch', clash, 'device /oci-existing over a regular file', undefined, await outside());
  },
});

const DEFAULTS: Array<[string, string, string]> = [
  ['/dev/null', '1', '3'],
  ['/dev/zero', '1', '5'],
  ['/dev/full', '1', '7'],
  ['/dev/random', '1', '8'],
  ['/dev/urandom', '1', '9'],
  ['/dev/tty', '5', '0'],
];

export const default_devices = scenario({
  section: 'config-linux.md#default-devices',
  name: 'default_devices',
  checks: {
    nodes: '/dev/null, zero, full, random, urandom and tty are there with their numbers',
    ptmx: "/dev/ptmx is a symlink to (or a bind of) the container's /dev/pts/ptmx",
    usable: 'the default devices can be used under a device cgroup that denies everything else',
  },
  async run(s) {
    const b = await s.bundle((c) => {
      c.process.args = probeArgs(['stat', ...DEFAULTS.map((d) => d[0]), '/dev/ptmx'], ['mounts'], ['write', '/dev/null', '/dev/full'], ['read', '/dev/zero', '/dev/urandom']);
    });
    const f = await s.container(b).run();
    for (const [p, major, minor] of DEFAULTS) {
      const st = f.stat(p);
      s.equal('nodes', [st?.type, st?.major, st?.minor], ['c', major, minor], p);
    }
    const ptmx = f.stat('/dev/ptmx');
    const linked = ptmx?.type === 'link' && (ptmx.target === 'pts/ptmx' || ptmx.target === '/dev/pts/ptmx');
    const bound = ptmx?.type === 'c' && ptmx.major === '5' && ptmx.minor === '2' && f.mountAt('/dev/ptmx') !== undefined;
    s.ok('ptmx', linked || bound, `/dev/ptmx: ${f.get('stat /dev/ptmx')}`);
    s.equal('usable', [f.get('write /dev/null'), f.get('write /dev/full'), f.get('read /dev/zero')], ['ok', 'ok', 'bytes=4096']);
    s.ok('usable', /^bytes=[1-9]/.test(f.get('read /dev/urandom') ?? ''), `/dev/urandom: ${f.get('read /dev/urandom')}`);
  },
});

export const linux_cgroups_devices = scenario({
  section: 'config-linux.md#allowed-device-list',
  name: 'linux_cgroups_devices',
  checks: {
    order: 'resources.devices entries apply in the listed order (a later entry overrides an earlier one)',
    'default-deny': 'a device node that no entry allows cannot be opened under "deny all"',
  },
  async run(s) {
    const run = async (rules: unknown[]): Promise<Facts> => {
      const b = await s.bundle((c) => {
        c.linux.devices = [{ path: '/dev/oci-fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666 }];
        c.linux.resources.devices = [{ allow: false, access: 'rwm' }, ...rules];
        c.process.args = probeArgs(['open', 'w', '/dev/oci-fuse'], ['open', 'r', '/dev/oci-fuse']);
      });
      return s.container(b).run();
    };
    const [denyLast, allowLast, none] = await Promise.all([
      run([
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
        { allow: false, type: 'c', major: 10, minor: 229, access: 'w' },
      ]),
      run([
        { allow: false, type: 'c', major: 10, minor: 229, access: 'w' },
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      ]),
      run([]),
    ]);
    s.equal('default-deny', [none.get('open r /dev/oci-fuse'), none.get('open w /dev/oci-fuse')], ['error EPERM', 'error EPERM']);
    s.equal('order', denyLast.get('open w /dev/oci-fuse'), 'error EPERM', 'open for writing after "allow rw, deny w"');
    s.equal('order', denyLast.get('open r /dev/oci-fuse'), 'ok', 'open for reading after "allow rw, deny w"');
    s.equal('order', allowLast.get('open w /dev/oci-fuse'), 'ok', 'open for writing after "deny w, allow rw"');
  },
});

export const dev_symlinks = scenario({
  section: 'runtime-linux.md#dev-symbolic-links',
  name: 'dev_symlinks',
  checks: {
    fd: '/dev/fd is a symlink to /proc/self/fd',
    stdin: '/dev/stdin is a symlink to /proc/self/fd/0',
    stdout: '/dev/stdout is a symlink to /proc/self/fd/1',
    stderr: '/dev/stderr is a symlink to /proc/self/fd/2',
  },
  async run(s) {
    const links = { fd: '/proc/self/fd', stdin: '/proc/self/fd/0', stdout: '/proc/self/fd/1', stderr: '/proc/self/fd/2' };
    const b = await s.bundle((c) => (c.process.args = probeArgs(['stat', ...Object.keys(links).map((k) => `/dev/${k}`)])));
    const f = await s.container(b).run();
    for (const [k, target] of Object.entries(links)) {
      const st = f.stat(`/dev/${k}`);
      s.equal(k, [st?.type, st?.target], ['link', target]);
    }
  },
});

export const file_descriptors = scenario({
  section: 'runtime-linux.md#file-descriptors',
  name: 'file_descriptors',
  checks: {
    'only-stdio': 'the process starts with only stdin, stdout and stderr open',
  },
  async run(s) {
    const b = await s.bundle((c) => (c.process.args = probeArgs(['report'])));
    const f = await s.container(b).run();
    const fds = f.all('fd').map((l) => l.split(' ')[0]);
    s.equal('only-stdio', fds, ['0', '1', '2'], `open fds (${f.all('fd').join(' | ')})`);
  },
});

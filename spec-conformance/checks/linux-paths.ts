// config-linux.md#masked-paths, #readonly-paths and #rootfs-mount-propagation.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { probeArgs } from '../lib/config.js';
import { scenario } from '../lib/scenario.js';

export const linux_masked_paths = scenario({
  section: 'config-linux.md#masked-paths',
  name: 'linux_masked_paths',
  checks: {
    file: 'a masked file reads as empty',
    directory: 'a masked directory lists as empty',
    proc: 'a masked /proc file (the first of runc\'s defaults this kernel has) reads as empty',
  },
  async run(s) {
    const procFile = s.need(
      ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/latency_stats'].find((p) => existsSync(p)),
      'a /proc file among the default masked paths',
    );
    const b = await s.bundle((c, bd) => {
      mkdirSync(path.join(bd.rootfs, 'oci-masked-dir'));
      writeFileSync(path.join(bd.rootfs, 'oci-masked-dir', 'secret'), 'secret\n');
      writeFileSync(path.join(bd.rootfs, 'oci-masked-file'), 'secret\n');
      c.linux.maskedPaths.push('/oci-masked-dir', '/oci-masked-file');
      c.process.args = probeArgs(['read', '/oci-masked-file', '/oci-masked-dir', procFile]);
    });
    const f = await s.container(b).run();
    s.equal('file', f.get('read /oci-masked-file'), 'bytes=0');
    s.equal('directory', f.get('read /oci-masked-dir'), 'entries=0');
    s.equal('proc', f.get(`read ${procFile}`), 'bytes=0', procFile);
  },
});

export const linux_readonly_paths = scenario({
  section: 'config-linux.md#readonly-paths',
  name: 'linux_readonly_paths',
  checks: {
    file: 'a read-only file cannot be opened for writing',
    directory: 'nothing can be created in a read-only directory',
    proc: 'a read-only /proc/sys cannot be written',
  },
  async run(s) {
    const b = await s.bundle((c, bd) => {
      mkdirSync(path.join(bd.rootfs, 'oci-ro-dir'));
      writeFileSync(path.join(bd.rootfs, 'oci-ro-file'), 'data\n');
      c.linux.readonlyPaths.push('/oci-ro-dir', '/oci-ro-file');
      c.process.args = probeArgs(['write', '/oci-ro-file', '/oci-ro-dir', '/proc/sys/kernel/hostname']);
    });
    const f = await s.container(b).run();
    s.equal('file', f.get('write /oci-ro-file'), 'error EROFS');
    s.equal('directory', f.get('write /oci-ro-dir'), 'error EROFS');
    s.equal('proc', f.get('write /proc/sys/kernel/hostname'), 'error EROFS');
  },
});

const PROPAGATION = {
  shared: (p: string[]) => p.some((x) => x.startsWith('shared:')),
  slave: (p: string[]) => p.some((x) => x.startsWith('master:')) && !p.some((x) => x.startsWith('shared:')),
  private: (p: string[]) => p.every((x) => x === 'private'),
  unbindable: (p: string[]) => p.includes('unbindable'),
};

export const linux_rootfs_propagation = scenario({
  section: 'config-linux.md#rootfs-mount-propagation',
  name: 'linux_rootfs_propagation',
  checks: {
    shared: 'rootfsPropagation "shared" makes the rootfs mount shared',
    slave: 'rootfsPropagation "slave" makes it a slave',
    private: 'rootfsPropagation "private" makes it private',
    unbindable: 'rootfsPropagation "unbindable" makes it unbindable',
  },
  async run(s) {
    await Promise.all(
      (Object.keys(PROPAGATION) as Array<keyof typeof PROPAGATION>).map(async (mode) => {
        try {
          const b = await s.bundle((c) => {
            c.linux.rootfsPropagation = mode;
            c.process.args = probeArgs(['mounts']);
          });
          // A slave needs a master: the bundle is made a shared mount on the host, as it
          // is on hosts whose / is shared (this one's is private).
          execFileSync('mount', ['--bind', b.dir, b.dir]);
          s.defer(() => void execFileSync('umount', ['-l', b.dir]));
          execFileSync('mount', ['--make-shared', b.dir]);
          const f = await s.container(b).run();
          const root = f.mountAt('/');
          s.ok(mode, root !== undefined && PROPAGATION[mode](root.propagation), `the / mount has "${root?.propagation.join(',')}"`);
        } catch (e) {
          s.ok(mode, false, (e as Error).message);
        }
      }),
    );
  },
});

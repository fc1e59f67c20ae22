// config.md#posix-platform-mounts (runtime-spec 1.2): idmapped bind mounts, the mount's
// own uidMappings and gidMappings applied with mount_setattr(MOUNT_ATTR_IDMAP).
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { probeArgs } from '../lib/config.js';
import { scenario } from '../lib/scenario.js';

const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

export const mounts_idmap = scenario({
  section: 'config.md#posix-platform-mounts',
  name: 'mounts_idmap',
  checks: {
    idmap: 'a bind mount with "idmap" and uid/gid mappings shows host-owned files as the mapped ids (runtime-spec 1.2)',
  },
  async run(s) {
    const src = path.join(s.work, 'idmap-src');
    mkdirSync(src, { mode: 0o755 });
    writeFileSync(path.join(src, 'owned-by-1000'), 'x\n');
    chownSync(path.join(src, 'owned-by-1000'), 1000, 1000);
    const b = await s.bundle((c, bd) => {
      // mapped root cannot make directories in a rootfs owned by the host's root
      for (const d of ['mnt/idmapped', 'mnt/plain']) mkdirSync(path.join(bd.rootfs, d), { recursive: true });
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = MAP;
      c.linux.gidMappings = MAP;
      c.mounts.push(
        { destination: '/mnt/idmapped', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: MAP, gidMappings: MAP },
        { destination: '/mnt/plain', type: 'bind', source: src, options: ['bind'] },
      );
      c.process.args = probeArgs(['stat', '/mnt/idmapped/owned-by-1000', '/mnt/plain/owned-by-1000']);
    });
    const f = await s.container(b).run();
    const mapped = f.stat('/mnt/idmapped/owned-by-1000');
    const plain = f.stat('/mnt/plain/owned-by-1000');
    // Host uid 1000 is outside the container's map (65534 there); through the idmapped
    // mount it is container uid 1000.
    s.equal('idmap', [mapped?.uid, mapped?.gid], ['1000', '1000'], 'owner through the idmapped mount');
    s.equal('idmap', [plain?.uid, plain?.gid], ['65534', '65534'], 'owner through the plain bind');
  },
});

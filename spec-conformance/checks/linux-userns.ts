// config-linux.md#user-namespace-mappings and #offset-for-time-namespace: a user namespace
// with id maps, and a time namespace with clock offsets.
import { chownSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { allCgroupDirs } from '../lib/cgroups.js';
import { probeArgs } from '../lib/config.js';
import { scenario } from '../lib/scenario.js';

const HOST_BASE = 100000;
const SIZE = 65536;

export const linux_uid_mappings = scenario({
  section: 'config-linux.md#user-namespace-mappings',
  name: 'linux_uid_mappings',
  checks: {
    new: 'a user namespace without path is a new one',
    uidMappings: '/proc/self/uid_map is linux.uidMappings',
    gidMappings: '/proc/self/gid_map is linux.gidMappings',
    ids: 'the process is uid 0 inside and the mapped uid on the host',
    writes: 'it writes where the mapping owns the files and nowhere else in its rootfs',
    'no-chown': 'the runtime does not change the ownership of the rootfs to realize the mapping (SHOULD NOT)',
    'cgroup-owner': "the container's cgroups keep their owner (SHOULD NOT change them on cgroup v1, nor without a writable cgroup mount)",
  },
  async run(s) {
    const b = await s.bundle((c, bd) => {
      mkdirSync(`${bd.rootfs}/mapped-dir`);
      chownSync(`${bd.rootfs}/mapped-dir`, HOST_BASE, HOST_BASE);
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: HOST_BASE, size: SIZE }];
      c.linux.gidMappings = [{ containerID: 0, hostID: HOST_BASE, size: SIZE }];
      c.process.args = probeArgs(['report'], ['write', '/mapped-dir', '/']);
    });
    const ownerBefore = statSync(`${b.rootfs}/etc/passwd`).uid;
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    s.ok('new', readlinkSync(`/proc/${pid}/ns/user`) !== s.host.selfNs.get('user'), "the container has the runtime's user namespace");
    const hostUid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const cgDirs = allCgroupDirs(s.host, pid).filter((d) => d.includes(c.id));
    const owners = cgDirs.map((d) => `${d}:${statSync(d).uid}`);
    await c.startOk();
    await c.waitStopped();
    const f = c.output();
    s.equal('uidMappings', f.all('uid_map'), [`0 ${HOST_BASE} ${SIZE}`]);
    s.equal('gidMappings', f.all('gid_map'), [`0 ${HOST_BASE} ${SIZE}`]);
    s.equal('ids', f.get('uid'), '0', 'uid inside');
    s.equal('ids', hostUid, String(HOST_BASE), 'uid as the host sees it');
    s.equal('writes', f.get('write /mapped-dir'), 'ok', 'a directory owned by the mapped root');
    s.equal('writes', f.get('write /'), 'error EACCES', 'the rootfs root, owned by an unmapped uid');
    s.equal('no-chown', [statSync(`${b.rootfs}/etc/passwd`).uid, statSync(b.rootfs).uid], [ownerBefore, 0]);
    s.ok('cgroup-owner', cgDirs.length > 0 && owners.every((o) => o.endsWith(':0')), `owners: ${owners.join(' ') || '(no cgroup found)'}`);
  },
});

export const time_namespace = scenario({
  section: 'config-linux.md#offset-for-time-namespace',
  name: 'linux_ns_nopath',
  checks: {
    time: 'a time namespace without path is a new one',
    'timeOffsets-monotonic': 'timeOffsets.monotonic shifts CLOCK_MONOTONIC in the container',
    'timeOffsets-boottime': 'timeOffsets.boottime shifts CLOCK_BOOTTIME in the container',
  },
  async run(s) {
    const MONO = 10 * 86400;
    const BOOT = 20 * 86400;
    const b = await s.bundle((c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { monotonic: { secs: MONO, nanosecs: 0 }, boottime: { secs: BOOT, nanosecs: 0 } };
      c.process.args = probeArgs(['report']);
    });
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    s.ok('time', readlinkSync(`/proc/${pid}/ns/time`) !== s.host.selfNs.get('time'), "the container has the runtime's time namespace");
    await c.startOk();
    await c.waitStopped();
    const f = c.output();
    const hostMono = Number(process.hrtime.bigint() / 1_000_000_000n);
    const hostBoot = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const mono = Number(f.get('clock_monotonic')) - hostMono;
    const boot = Number(f.get('clock_boottime')) - hostBoot;
    s.ok('timeOffsets-monotonic', Math.abs(mono - MONO) < 120, `CLOCK_MONOTONIC is ${mono} s ahead of the host's, not ${MONO}`);
    s.ok('timeOffsets-boottime', Math.abs(boot - BOOT) < 120, `CLOCK_BOOTTIME is ${boot} s ahead of the host's, not ${BOOT}`);
  },
});

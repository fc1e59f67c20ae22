// config.md#linux-process's apparmorProfile and selinuxLabel, config-linux.md#mount-label,
// #personality and #intelrdt: applied where the host has them, a clear error where not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { probeArgs } from '../lib/config.js';
import { scenario } from '../lib/scenario.js';

export const lsm = scenario({
  section: 'config.md#linux-process',
  name: 'linux_process_apparmor_profile',
  checks: {
    apparmorProfile: 'apparmorProfile is applied where AppArmor is enabled; on a host without it, create fails naming AppArmor',
    selinuxLabel: 'selinuxLabel is applied where SELinux is enabled; on a host without it, create fails naming SELinux',
  },
  async run(s) {
    if (s.host.apparmor) {
      const f = await s.report('apparmorProfile', (c) => {
        c.process.apparmorProfile = 'unconfined';
        c.process.args = probeArgs(['cat', '/proc/self/attr/current']);
      });
      if (f) s.equal('apparmorProfile', f.get('cat /proc/self/attr/current'), 'unconfined');
    } else {
      const b = await s.bundle((c) => (c.process.apparmorProfile = 'oci-conformance-profile'));
      await s.expectError('apparmorProfile', b, 'apparmorProfile on a host without AppArmor', /apparmor/i);
    }
    const label = 'system_u:system_r:container_t:s0:c1,c2';
    if (s.host.selinux) {
      const f = await s.report('selinuxLabel', (c) => {
        c.process.selinuxLabel = label;
        c.process.args = probeArgs(['cat', '/proc/self/attr/current']);
      });
      if (f) s.ok('selinuxLabel', (f.get('cat /proc/self/attr/current') ?? '').startsWith(label), `label: ${f.get('cat /proc/self/attr/current')}`);
    } else {
      const b = await s.bundle((c) => (c.process.selinuxLabel = label));
      await s.expectError('selinuxLabel', b, 'selinuxLabel on a host without SELinux', /selinux/i);
    }
  },
});

export const linux_mount_label = scenario({
  section: 'config-linux.md#mount-label',
  name: 'linux_mount_label',
  checks: {
    mountLabel: 'mountLabel labels the mounts where SELinux is enabled; on a host without it, create fails naming SELinux',
  },
  async run(s) {
    const label = 'system_u:object_r:container_file_t:s0:c1,c2';
    if (s.host.selinux) {
      const f = await s.report('mountLabel', (c) => {
        c.linux.mountLabel = label;
        c.mounts.push({ destination: '/mnt/labelled', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        c.process.args = probeArgs(['mounts']);
      });
      if (f) s.ok('mountLabel', (f.mountAt('/mnt/labelled')?.superOptions ?? []).some((o) => o.includes('container_file_t')), `options: ${f.mountAt('/mnt/labelled')?.superOptions.join(',')}`);
    } else {
      const b = await s.bundle((c) => (c.linux.mountLabel = label));
      await s.expectError('mountLabel', b, 'mountLabel on a host without SELinux', /selinux|label/i);
    }
  },
});

export const personality = scenario({
  section: 'config-linux.md#personality',
  name: 'linux_personality',
  checks: {
    LINUX32: 'personality LINUX32 makes uname report a 32-bit machine',
    'invalid-domain': 'an unknown personality domain generates an error',
  },
  async run(s) {
    const f = await s.report('LINUX32', (c) => {
      c.linux.personality = { domain: 'LINUX32' };
      c.process.args = probeArgs(['report']);
    });
    if (f) s.ok('LINUX32', /^i[3-6]86$|^armv[78]l$/.test(f.get('machine') ?? ''), `uname machine ${f.get('machine')}`);
    const b = await s.bundle((c) => (c.linux.personality = { domain: 'OCI_BOGUS' }));
    const valid = await s.bundle((c) => (c.linux.personality = { domain: 'LINUX' }));
    await s.expectError('invalid-domain', b, 'personality domain OCI_BOGUS', undefined, valid);
  },
});

export const intel_rdt = scenario({
  section: 'config-linux.md#intelrdt',
  name: 'linux_intel_rdt',
  checks: {
    intelRdt: 'intelRdt puts the container in its resctrl group; with no resctrl mounted, create fails naming it',
  },
  async run(s) {
    if (!s.host.resctrl) {
      const b = await s.bundle((c) => (c.linux.intelRdt = { closID: 'oci-conformance', l3CacheSchema: 'L3:0=f' }));
      await s.expectError('intelRdt', b, 'intelRdt with no resctrl mounted', /rdt|resctrl/i);
      return;
    }
    // No closID: the runtime makes a group named after the container.
    const b = await s.bundle((c) => {
      c.linux.intelRdt = {};
      c.process.args = probeArgs(['sleep', '5']);
    });
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    const tasks = readFileSync(path.join(s.host.resctrl, c.id, 'tasks'), 'utf8');
    s.ok('intelRdt', tasks.split('\n').includes(String(pid)), `pid ${pid} not in the group's tasks`);
  },
});

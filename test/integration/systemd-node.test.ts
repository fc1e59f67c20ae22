// The kind-like node the systemd cgroup driver is tested in: systemd runs as its PID 1 with
// the host's hybrid cgroup layout, its overlay never shows in the host's mount table, and
// stopping it leaves nothing on the host.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeLeftovers, startSystemdNode, type SystemdNode } from '../helpers/systemd-node.js';

const hostMounts = (): string => readFileSync('/proc/self/mountinfo', 'utf8');

describe('the systemd node (test environment)', () => {
  let node: SystemdNode;
  beforeAll(async () => {
    node = await startSystemdNode();
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('runs systemd as PID 1 with D-Bus, in its own cgroup namespace', async () => {
    expect((await node.sh('cat /proc/1/comm')).trim()).toBe('systemd');
    // Every unit that boots in the node starts: the masked list covers this host's services.
    const state = await node.exec(['systemctl', 'is-system-running']);
    expect({ state: state.stdout.trim(), failed: (await node.sh('systemctl --failed --no-legend --plain --no-pager')).trim() }).toEqual({ state: 'running', failed: '' });
    expect((await node.sh('systemctl is-active dbus.service')).trim()).toBe('active');
    // Inside its cgroup namespace the node's cgroup is the root.
    expect(await node.sh('cat /proc/1/cgroup')).toMatch(/^\d+:memory:\/init\.scope$/m);
    expect(readFileSync(`/proc/${node.pid}/cgroup`, 'utf8')).toContain(`:memory:${node.cgroup}/init.scope`);
  });

  it('has the hybrid layout: v1 controllers and a unified tree for tracking', async () => {
    const mounts = await node.sh('findmnt -n -l -o FSTYPE,TARGET -R /sys/fs/cgroup');
    expect(mounts).toMatch(/^cgroup\s+\/sys\/fs\/cgroup\/memory$/m);
    expect(mounts).toMatch(/^cgroup2\s+\/sys\/fs\/cgroup\/unified$/m);
  });

  it('masks the host services that make no sense in it', async () => {
    const r = await node.exec(['systemctl', 'is-enabled', 'containerd.service']);
    expect(r.stdout.trim()).toBe('masked');
  });

  it('keeps its overlay out of the host mount table', () => {
    expect(hostMounts()).not.toContain('tsrun-node');
    expect(hostMounts()).not.toContain(node.dir);
  });
});

describe('stopping a node', () => {
  it('leaves no cgroup, dir, mount or process', async () => {
    const node = await startSystemdNode();
    // systemd makes cgroups of its own under the node's: they must go too.
    await node.sh('systemd-run --unit tsrun-leak-probe sleep 1000');
    await node.stop();
    expect(nodeLeftovers(node)).toEqual([]);
    expect(hostMounts()).not.toContain(node.dir);
  });
});

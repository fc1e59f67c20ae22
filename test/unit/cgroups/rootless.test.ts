// Rootless cgroups: which limits are refused when a hierarchy was gone without, and what
// the cgroup mount binds for it.
import { describe, expect, it } from 'vitest';
import { cgroupManager } from '../../../src/cgroups/factory.js';
import type { CgroupPaths } from '../../../src/cgroups/manager.js';
import { NoCgroup } from '../../../src/cgroups/none.js';
import { hasCgroups, mountSources, refuseUnjoined } from '../../../src/cgroups/rootless.js';

const partial: CgroupPaths = {
  v1: { memory: '/sys/fs/cgroup/memory/d/c1', 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/d/c1' },
  unjoined: ['pids', ''],
};

describe('rootless cgroups', () => {
  it('refuses a limit of a hierarchy it went without, in runc\'s words', () => {
    expect(() => refuseUnjoined(partial, { memory: { limit: 1 } })).not.toThrow();
    expect(() => refuseUnjoined(partial, { pids: { limit: 10 } })).toThrow('pids.limit: cannot set pids limit: container could not join or create cgroup');
  });

  it('without any cgroup: every limit is refused, and the verbs that list processes say why', () => {
    const none: CgroupPaths = { v1: {}, unjoined: ['memory', 'pids', ''] };
    expect(hasCgroups(none)).toBe(false);
    const m = cgroupManager(none);
    expect(m).toBeInstanceOf(NoCgroup);
    expect(() => m.set({ cpu: { shares: 512 } })).toThrow('cpu: cannot set cpu limit: container could not join or create cgroup');
    expect(() => m.set({ unified: { 'memory.max': '1' } })).toThrow('unified: cannot set unified limit');
    expect(() => m.set({})).not.toThrow();
    expect(() => m.procs()).toThrow(/^unable to get all container pids: the container has no cgroup/);
    expect(m.canFreeze()).toBe(false);
    expect(m.exists()).toBe(false);
  });

  it('binds the caller\'s own cgroup for a hierarchy the container stays in', () => {
    const caller: CgroupPaths = { v1: { memory: '/sys/fs/cgroup/memory/user', pids: '/sys/fs/cgroup/pids/user' } };
    expect(mountSources(partial, caller).v1).toEqual({ ...partial.v1, pids: '/sys/fs/cgroup/pids/user' });
  });
});

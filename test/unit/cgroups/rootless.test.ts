// Rootless cgroups: which limits are refused when a hierarchy was gone without, and what
// the cgroup mount binds for it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupManager } from '../../../src/cgroups/factory.js';
import type { CgroupPaths } from '../../../src/cgroups/manager.js';
import { NoCgroup } from '../../../src/cgroups/none.js';
import { hasCgroups, makeRootless, mountSources, refuseUnjoined } from '../../../src/cgroups/rootless.js';

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

// mkdir under /sys/kernel is refused to anyone (EPERM for root, EACCES otherwise): a
// hierarchy the caller may not create, without needing a cgroup or an unprivileged user.
const DENIED = '/sys/kernel/tsrun-rootless-test';

describe('makeRootless', () => {
  it('v1: goes without a denied hierarchy (and hybrid\'s unified tree alone is not a container\'s)', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsrun-rootless-'));
    try {
      const mine = path.join(tmp, 'pids', 'c1');
      const kept = makeRootless({ v1: { memory: DENIED, pids: mine }, unified: `${DENIED}-u` }, { explicitPath: false, resources: {} });
      expect(kept).toEqual({ v1: { pids: mine }, unjoined: ['memory', ''] });
      expect(existsSync(mine)).toBe(true);
      const none = makeRootless({ v1: { memory: DENIED }, unified: path.join(tmp, 'u') }, { explicitPath: false, resources: {} });
      expect(none).toEqual({ v1: {}, unjoined: ['memory', ''] });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('v1: an explicit cgroupsPath that is denied is an error, and what was made goes', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsrun-rootless-'));
    try {
      const mine = path.join(tmp, 'pids', 'c1');
      expect(() => makeRootless({ v1: { pids: mine, memory: DENIED } }, { explicitPath: true, resources: {} })).toThrow(/create cgroup \/sys\/kernel/);
      expect(existsSync(path.join(tmp, 'pids'))).toBe(false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('v2: without a cgroup only when no limit is asked for, as runc\'s fs2 manager', () => {
    expect(makeRootless({ v1: {}, unified: DENIED }, { explicitPath: false, resources: {} })).toEqual({ v1: {}, unjoined: [''] });
    expect(() => makeRootless({ v1: {}, unified: DENIED }, { explicitPath: false, resources: { pids: { limit: 5 } } })).toThrow(
      /^rootless needs no limits \+ no cgrouppath when no permission is granted for cgroups: create cgroup/,
    );
    expect(() => makeRootless({ v1: {}, unified: DENIED }, { explicitPath: true, resources: {} })).toThrow(/^create cgroup/);
  });
});

// linux.seccomp in the plan: compiled by libseccomp (the addon) into the filter tsrun-init loads.
import { describe, expect, it } from 'vitest';
import { buildPlan, refuseUnbuilt, type PlanInput } from '../../../src/runtime/plan/index.js';
import { configWithSeccomp } from '../../helpers/seccomp-profiles.js';

describe('linux.seccomp in the plan', () => {
  it('is built instead of refused', () => {
    const c = configWithSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
    expect(() => refuseUnbuilt(c)).not.toThrow();
    const input: PlanInput = {
      id: 'c1', bundle: '/b', config: c, rootfs: '/b/rootfs', cgroupPaths: { v1: {}, unified: '/sys/fs/cgroup/unified/c1' },
      layout: { mode: 'v2', v1: [], unified: { mountpoint: '/sys/fs/cgroup', root: '/' } }, noPivot: false, noNewKeyring: false,
    };
    const plan = buildPlan(input);
    expect(plan.seccomp?.bpf.length).toBeGreaterThan(0);
    expect((plan.seccomp?.bpf.length ?? 1) % 8).toBe(0);
    expect(buildPlan({ ...input, config: configWithSeccomp(undefined) }).seccomp).toBeNull();
  });
});

// The v1 writers against directories shaped like v1 cgroups: file names, the order of
// memory and memsw writes, BFQ fallbacks, and refusals for controllers that are missing.
import { afterEach, describe, expect, it } from 'vitest';
import { V1Manager } from '../../../src/cgroups/v1/manager.js';
import { setBlkio } from '../../../src/cgroups/v1/blkio.js';
import { setMemory } from '../../../src/cgroups/v1/memory.js';
import { setCpu } from '../../../src/cgroups/v1/cpu.js';
import { setNetCls, setNetPrio } from '../../../src/cgroups/v1/net.js';
import { setHugetlb } from '../../../src/cgroups/v1/hugetlb.js';
import { emptyFiles, FakeCgroup } from './helpers.js';

let cg: FakeCgroup;
afterEach(() => cg?.remove());

describe('v1 memory', () => {
  const files = (limit: string) => ({
    ...emptyFiles(['memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.swappiness', 'memory.oom_control', 'memory.kmem.limit_in_bytes']),
    'memory.limit_in_bytes': limit,
  });

  it('writes each setting to its file', () => {
    cg = new FakeCgroup(files('9223372036854771712\n'));
    setMemory(cg.dir, { limit: 100, swap: 200, reservation: 50, swappiness: 0, disableOOMKiller: true, kernel: 300 });
    expect(cg.read('memory.limit_in_bytes')).toBe('100');
    expect(cg.read('memory.memsw.limit_in_bytes')).toBe('200');
    expect(cg.read('memory.soft_limit_in_bytes')).toBe('50');
    expect(cg.read('memory.swappiness')).toBe('0');
    expect(cg.read('memory.oom_control')).toBe('1');
    expect(cg.read('memory.kmem.limit_in_bytes')).toBe('300');
  });

  it('-1 for memory makes memsw unlimited as well', () => {
    cg = new FakeCgroup(files('100\n'));
    setMemory(cg.dir, { limit: -1 });
    expect(cg.read('memory.limit_in_bytes')).toBe('-1');
    expect(cg.read('memory.memsw.limit_in_bytes')).toBe('-1');
  });

  it('swap without accounting is named', () => {
    cg = new FakeCgroup({ 'memory.limit_in_bytes': '100\n' });
    expect(() => setMemory(cg.dir, { swap: 200 })).toThrow(/^memory\.swap: this kernel has no swap accounting/);
  });

  it('swappiness past 100 is refused', () => {
    cg = new FakeCgroup(files('100\n'));
    expect(() => setMemory(cg.dir, { swappiness: 101 })).toThrow(/^memory\.swappiness: must be between 0 and 100/);
  });
});

describe('v1 cpu', () => {
  it('shares, quota, period, burst, idle, realtime', () => {
    cg = new FakeCgroup({
      ...emptyFiles(['cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.cfs_burst_us', 'cpu.idle', 'cpu.rt_period_us', 'cpu.rt_runtime_us']),
      'cpu.shares': '1024',
    });
    setCpu(cg.dir, { shares: 1024, quota: 5000, period: 10000, burst: 100, idle: 1, realtimePeriod: 1000000, realtimeRuntime: 5000 });
    expect(cg.read('cpu.cfs_quota_us')).toBe('5000');
    expect(cg.read('cpu.cfs_period_us')).toBe('10000');
    expect(cg.read('cpu.cfs_burst_us')).toBe('100');
    expect(cg.read('cpu.idle')).toBe('1');
    expect(cg.read('cpu.rt_period_us')).toBe('1000000');
    expect(cg.read('cpu.rt_runtime_us')).toBe('5000');
  });
});

describe('v1 blkio', () => {
  it('uses CFQ files where they exist', () => {
    cg = new FakeCgroup(emptyFiles(['blkio.weight', 'blkio.weight_device', 'blkio.leaf_weight', 'blkio.leaf_weight_device']));
    setBlkio(cg.dir, { weight: 500, leafWeight: 300, weightDevice: [{ major: 8, minor: 0, weight: 600, leafWeight: 700 }] });
    expect(cg.read('blkio.weight')).toBe('500');
    expect(cg.read('blkio.leaf_weight')).toBe('300');
    expect(cg.read('blkio.weight_device')).toBe('8:0 600');
    expect(cg.read('blkio.leaf_weight_device')).toBe('8:0 700');
  });

  it('falls back to BFQ, which has no leaf weights', () => {
    cg = new FakeCgroup(emptyFiles(['blkio.bfq.weight', 'blkio.bfq.weight_device', 'blkio.throttle.write_bps_device']));
    setBlkio(cg.dir, { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 600 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 99 }] });
    expect(cg.read('blkio.bfq.weight')).toBe('500');
    expect(cg.read('blkio.bfq.weight_device')).toBe('8:0 600');
    expect(cg.read('blkio.throttle.write_bps_device')).toBe('8:0 99');
    expect(() => setBlkio(cg.dir, { leafWeight: 10 })).toThrow(/^blockIO\.leafWeight: blkio\.leaf_weight is missing/);
  });
});

describe('v1 hugetlb, net_cls, net_prio', () => {
  it('write their files', () => {
    cg = new FakeCgroup(emptyFiles(['hugetlb.2MB.limit_in_bytes', 'net_cls.classid', 'net_prio.ifpriomap']));
    setHugetlb(cg.dir, [{ pageSize: '2MB', limit: 4194304 }]);
    setNetCls(cg.dir, { classID: 0x100001 });
    setNetPrio(cg.dir, { priorities: [{ name: 'eth0', priority: 5 }] });
    expect(cg.read('hugetlb.2MB.limit_in_bytes')).toBe('4194304');
    expect(cg.read('net_cls.classid')).toBe('1048577');
    expect(cg.read('net_prio.ifpriomap')).toBe('eth0 5');
    expect(() => setHugetlb(cg.dir, [{ pageSize: '1GB', limit: 1 }])).toThrow(/^hugepageLimits\[0\]\.pageSize: hugetlb\.1GB\.limit_in_bytes is missing/);
  });
});

describe('V1Manager', () => {
  it('refuses a resource whose hierarchy is not mounted before making anything', () => {
    cg = new FakeCgroup({});
    const m = new V1Manager({ v1: { memory: `${cg.dir}/memory/c1` } });
    expect(() => m.create({ resources: { pids: { limit: 5 } }, devices: [] })).toThrow(/^pids\.limit: the pids cgroup controller is not mounted/);
    expect(() => m.create({ resources: { rdma: { mlx: { hcaHandles: 1 } } }, devices: [] })).toThrow(/^rdma: the rdma cgroup controller/);
    expect(m.exists()).toBe(false);
  });
});

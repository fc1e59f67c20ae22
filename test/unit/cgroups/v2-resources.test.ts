// The v2 writers against a directory shaped like a v2 cgroup: each v1-style resource lands
// in its v2 file with runc's translation.
import { afterEach, describe, expect, it } from 'vitest';
import { enableControllers } from '../../../src/cgroups/v2/controllers.js';
import { V2Manager } from '../../../src/cgroups/v2/manager.js';
import { swapOnly } from '../../../src/cgroups/v2/memory.js';
import { emptyFiles, FakeCgroup } from './helpers.js';

const V2_FILES = [
  'cgroup.procs', 'cgroup.freeze', 'cgroup.kill', 'cgroup.events', 'memory.max', 'memory.low', 'memory.swap.max', 'memory.current',
  'cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'cpuset.cpus', 'cpuset.mems', 'pids.max', 'io.weight', 'io.max',
  'hugetlb.2MB.max', 'rdma.max',
];

let cg: FakeCgroup;
afterEach(() => cg?.remove());

function manager(extra: Record<string, string> = {}): V2Manager {
  cg = new FakeCgroup({ ...emptyFiles(V2_FILES), 'memory.current': '1000\n', ...extra });
  return new V2Manager({ v1: {}, unified: cg.dir, unifiedMount: cg.dir });
}

describe('v2 resources', () => {
  it('memory: limit, reservation, and memory+swap as swap alone', () => {
    manager().set({ memory: { limit: 100 << 20, reservation: 50 << 20, swap: 300 << 20 } });
    expect(cg.read('memory.max')).toBe(String(100 << 20));
    expect(cg.read('memory.low')).toBe(String(50 << 20));
    expect(cg.read('memory.swap.max')).toBe(String(200 << 20));
  });

  it('memory: -1 is max, and unlimited memory without swap makes swap unlimited too', () => {
    manager().set({ memory: { limit: -1 } });
    expect(cg.read('memory.max')).toBe('max');
    expect(cg.read('memory.swap.max')).toBe('max');
  });

  it('memory: swap equal to the limit disables swap', () => {
    manager().set({ memory: { limit: 1 << 20, swap: 1 << 20 } });
    expect(cg.read('memory.swap.max')).toBe('0');
  });

  it('memory: checkBeforeUpdate refuses a limit at or below usage', () => {
    const m = manager();
    expect(() => m.set({ memory: { limit: 1000, checkBeforeUpdate: true } })).toThrow(/memory\.limit: rejecting memory limit 1000 below current usage 1000/);
    m.set({ memory: { limit: 4096, checkBeforeUpdate: true } });
    expect(cg.read('memory.max')).toBe('4096');
  });

  it('memory: useHierarchy false cannot be had', () => {
    expect(() => manager().set({ memory: { useHierarchy: false } })).toThrow(/memory\.useHierarchy: cgroup v2 is always hierarchical/);
  });

  it('swapOnly follows runc', () => {
    expect(swapOnly(0, 0)).toBe(0);
    expect(swapOnly(-1, 100)).toBe(-1);
    expect(swapOnly(300, 100)).toBe(200);
    expect(() => swapOnly(300, 0)).toThrow(/without memory limit/);
    expect(() => swapOnly(50, 100)).toThrow(/should be >= memory limit/);
  });

  it('cpu: shares become weight, quota and period become cpu.max', () => {
    manager().set({ cpu: { shares: 1024, quota: 50000, period: 200000, burst: 1000, idle: 1, cpus: '0-1', mems: '0' } });
    expect(cg.read('cpu.weight')).toBe('39');
    expect(cg.read('cpu.max')).toBe('50000 200000');
    expect(cg.read('cpu.max.burst')).toBe('1000');
    expect(cg.read('cpu.idle')).toBe('1');
    expect(cg.read('cpuset.cpus')).toBe('0-1');
    expect(cg.read('cpuset.mems')).toBe('0');
  });

  it('cpu: a quota alone takes the default period; -1 is max', () => {
    const m = manager();
    m.set({ cpu: { quota: 25000 } });
    expect(cg.read('cpu.max')).toBe('25000 100000');
    m.set({ cpu: { quota: -1, period: 50000 } });
    expect(cg.read('cpu.max')).toBe('max 50000');
  });

  it('cpu: realtime is refused', () => {
    expect(() => manager().set({ cpu: { realtimeRuntime: 1000 } })).toThrow(/cpu\.realtimeRuntime: cgroup v2 has no realtime budget/);
  });

  it('pids: a limit, or max for -1', () => {
    const m = manager();
    m.set({ pids: { limit: 42 } });
    expect(cg.read('pids.max')).toBe('42');
    m.set({ pids: { limit: -1 } });
    expect(cg.read('pids.max')).toBe('max');
  });

  it('io: blkio weight converted to io.weight, throttles to io.max', () => {
    const m = manager();
    m.set({ blockIO: { weight: 500 } });
    expect(cg.read('io.weight')).toBe(String(1 + Math.floor(((500 - 10) * 9999) / 990)));
    m.set({ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] } });
    expect(cg.read('io.max')).toBe('8:0 rbps=1048576');
    m.set({ blockIO: { throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }] } });
    expect(cg.read('io.max')).toBe('8:16 wiops=100');
  });

  it('io: with BFQ the weight goes to io.bfq.weight as it is', () => {
    const m = manager({ 'io.bfq.weight': '' });
    m.set({ blockIO: { weight: 300 } });
    expect(cg.read('io.bfq.weight')).toBe('300');
    m.set({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 444 }] } });
    expect(cg.read('io.bfq.weight')).toBe('8:0 444');
  });

  it('io: leaf weights are refused', () => {
    expect(() => manager().set({ blockIO: { leafWeight: 100 } })).toThrow(/blockIO\.leafWeight: cgroup v2 has no leaf weights/);
  });

  it('hugetlb: hugetlb.<size>.max; a size the cgroup lacks is named', () => {
    const m = manager();
    m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] });
    expect(cg.read('hugetlb.2MB.max')).toBe(String(4 << 20));
    expect(() => m.set({ hugepageLimits: [{ pageSize: '1GB', limit: 1 }] })).toThrow(/hugepageLimits\[0\]\.pageSize: hugetlb\.1GB\.max is missing/);
  });

  it('rdma: one line per device', () => {
    manager().set({ rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 100 } } });
    expect(cg.read('rdma.max')).toBe('mlx5_0 hca_handle=3 hca_object=100');
  });

  it('unified: written as given, after the rest; unknown files are named', () => {
    const m = manager();
    m.set({ memory: { limit: 1 << 20 }, unified: { 'memory.max': '2097152' } });
    expect(cg.read('memory.max')).toBe('2097152');
    expect(() => m.set({ unified: { 'memory.oom.group': '1' } })).toThrow(/unified\.memory\.oom\.group: .*memory controller enabled/);
    expect(() => m.set({ unified: { '../x.y': '1' } })).toThrow(/not a cgroup file name/);
  });

  it('network: refused, v2 has no net_cls or net_prio', () => {
    expect(() => manager().set({ network: { classID: 1 } })).toThrow(/network\.classID: net_cls is a cgroup v1 controller/);
  });

  it('freeze state is read from cgroup.freeze; cgroup.kill is one write', () => {
    const m = manager({ 'cgroup.freeze': '1\n' });
    expect(m.isFrozen()).toBe(true);
    cg.add({ 'cgroup.freeze': '0\n' });
    expect(m.isFrozen()).toBe(false);
    expect(m.killAll()).toBe(true);
    expect(cg.read('cgroup.kill')).toBe('1');
  });

  it('procs walks sub-cgroups', () => {
    const m = manager({ 'cgroup.procs': '10\n11\n' });
    cg.add({ 'cgroup.procs': '12\n' }, 'sub');
    cg.add({ 'cgroup.procs': '13\n' }, 'sub/deeper');
    expect(m.procs().sort()).toEqual([10, 11, 12, 13]);
  });
});

describe('enableControllers', () => {
  it('enables what each level from the root down offers, and no further', () => {
    cg = new FakeCgroup({ 'cgroup.controllers': 'cpu memory pids\n', 'cgroup.subtree_control': 'cpu\n' });
    cg.add({ 'cgroup.controllers': 'memory pids\n', 'cgroup.subtree_control': '' }, 'a');
    cg.add({ 'cgroup.controllers': 'memory\n', 'cgroup.subtree_control': '' }, 'a/b');
    enableControllers(cg.dir, `${cg.dir}/a/b/c`);
    expect(cg.read('cgroup.subtree_control')).toBe('+memory +pids');
    expect(cg.read('a/cgroup.subtree_control')).toBe('+memory +pids');
    expect(cg.read('a/b/cgroup.subtree_control')).toBe('+memory');
  });

  it('touches nothing outside the root it is given', () => {
    cg = new FakeCgroup({ 'cgroup.controllers': 'cpu\n', 'cgroup.subtree_control': '' });
    enableControllers(`${cg.dir}/inner`, `${cg.dir}/other/c`);
    expect(cg.read('cgroup.subtree_control')).toBe('');
  });
});

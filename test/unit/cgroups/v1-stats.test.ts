// v1 statistics from directories shaped like v1 cgroups, read as runc 1.1 reads them.
import { afterEach, describe, expect, it } from 'vitest';
import { hugetlbStats } from '../../../src/cgroups/hugetlb-stats.js';
import { emptyStats } from '../../../src/cgroups/stats.js';
import { blkioStats, cpuacctStats, memoryStats } from '../../../src/cgroups/v1/stats.js';
import { FakeCgroup } from './helpers.js';

let cg: FakeCgroup;
afterEach(() => cg?.remove());

describe('v1 stats', () => {
  it('cpuacct: total, per cpu, per cpu user/kernel, and ticks as nanoseconds', () => {
    cg = new FakeCgroup({
      'cpuacct.usage': '300\n',
      'cpuacct.usage_percpu': '100 200 \n',
      'cpuacct.usage_all': 'cpu user system\n0 60 40\n1 150 50\n',
      'cpuacct.stat': 'user 3\nsystem 1\n',
    });
    const s = emptyStats();
    cpuacctStats(cg.dir, s);
    expect(s.cpu.usage).toEqual({ total: 300n, percpu: [100n, 200n], percpuUser: [60n, 150n], percpuKernel: [40n, 50n], user: 30000000n, kernel: 10000000n });
  });

  it('memory: usage, memsw as swap, kmem, and memory.stat as raw', () => {
    const entry = (prefix: string, v: string) => ({
      [`${prefix}.usage_in_bytes`]: v,
      [`${prefix}.max_usage_in_bytes`]: '9',
      [`${prefix}.failcnt`]: '1',
      [`${prefix}.limit_in_bytes`]: '9223372036854771712',
    });
    cg = new FakeCgroup({ ...entry('memory', '5'), ...entry('memory.memsw', '6'), ...entry('memory.kmem', '7'), 'memory.stat': 'cache 4\nrss 1\n' });
    const s = emptyStats();
    memoryStats(cg.dir, s);
    expect(s.memory.usage).toEqual({ usage: 5n, max: 9n, failcnt: 1n, limit: 9223372036854771712n });
    expect(s.memory.swap.usage).toBe(6n);
    expect(s.memory.kernel.usage).toBe(7n);
    expect(s.memory.kernelTCP.usage).toBe(0n);
    expect(s.memory.cache).toBe(4n);
  });

  it('blkio: the first group of files that exists, Total lines skipped', () => {
    cg = new FakeCgroup({
      'blkio.bfq.io_serviced_recursive': '8:0 Read 2\n8:0 Write 3\nTotal 5\n',
      'blkio.bfq.io_service_bytes_recursive': '8:0 Read 512\n8:0 Write 1024\nTotal 1536\n',
      'blkio.throttle.io_serviced': '8:0 Read 99\n',
    });
    const s = emptyStats();
    blkioStats(cg.dir, s);
    expect(s.blkio.ioServicedRecursive).toEqual([
      { major: 8n, minor: 0n, op: 'Read', value: 2n },
      { major: 8n, minor: 0n, op: 'Write', value: 3n },
    ]);
    expect(s.blkio.ioServiceBytesRecursive.map((e) => e.value)).toEqual([512n, 1024n]);
  });

  it('hugetlb: one entry per page size', () => {
    cg = new FakeCgroup({ 'hugetlb.2MB.usage_in_bytes': '4\n', 'hugetlb.2MB.max_usage_in_bytes': '8\n', 'hugetlb.2MB.failcnt': '2\n', 'hugetlb.2MB.limit_in_bytes': '0\n' });
    const s = emptyStats();
    hugetlbStats(cg.dir, s);
    expect([...s.hugetlb]).toEqual([['2MB', { usage: 4n, max: 8n, failcnt: 2n }]]);
  });
});

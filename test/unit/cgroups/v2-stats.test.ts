// v2 statistics and OOM notifications from a directory shaped like a v2 cgroup.
import { afterEach, describe, expect, it } from 'vitest';
import { statsV2 } from '../../../src/cgroups/v2/stats.js';
import { watchOomV2 } from '../../../src/cgroups/v2/oom.js';
import { FakeCgroup } from './helpers.js';

let cg: FakeCgroup;
afterEach(() => cg?.remove());

describe('v2 stats', () => {
  it('reads cpu, memory (swap as memory + swap), pids, io and hugetlb as runc 1.1 reports them', () => {
    cg = new FakeCgroup({
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 2\nthrottled_usec 30\n',
      'memory.current': '4096\n',
      'memory.max': '1048576\n',
      'memory.swap.current': '100\n',
      'memory.swap.max': 'max\n',
      'memory.stat': 'anon 4096\nfile 8192\n',
      'pids.current': '3\n',
      'pids.max': 'max\n',
      'io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
      'hugetlb.2MB.current': '0\n',
      'hugetlb.2MB.max': 'max\n',
      'hugetlb.2MB.events': 'max 5\n',
    });
    const s = statsV2(cg.dir);
    expect(s.cpu.usage).toMatchObject({ total: 1500000n, user: 1000000n, kernel: 500000n });
    expect(s.cpu.throttling).toEqual({ periods: 4n, throttledPeriods: 2n, throttledTime: 30000n });
    expect(s.memory.usage).toMatchObject({ usage: 4096n, limit: 1048576n });
    expect(s.memory.swap).toMatchObject({ usage: 4196n, limit: 2n ** 64n - 1n });
    expect(s.memory.cache).toBe(8192n);
    expect(s.pids).toEqual({ current: 3n, limit: 0n });
    expect(s.blkio.ioServiceBytesRecursive).toEqual([
      { major: 8n, minor: 0n, op: 'Read', value: 10n },
      { major: 8n, minor: 0n, op: 'Write', value: 20n },
    ]);
    expect(s.blkio.ioServicedRecursive.map((e) => e.value)).toEqual([1n, 2n]);
    expect(s.hugetlb.get('2MB')).toEqual({ usage: 0n, max: 0n, failcnt: 5n });
  });

  it('skips controllers whose files are absent', () => {
    cg = new FakeCgroup({ 'cgroup.procs': '' });
    const s = statsV2(cg.dir);
    expect(s.memory.usage.usage).toBe(0n);
    expect(s.hugetlb.size).toBe(0);
  });
});

describe('v2 OOM watch', () => {
  it('reports each new oom_kill and ends when the cgroup is no longer populated', async () => {
    cg = new FakeCgroup({ 'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n', 'cgroup.events': 'populated 1\nfrozen 0\n' });
    const seen: string[] = [];
    const ended = new Promise<void>((resolve) => {
      watchOomV2(cg.dir, () => seen.push('oom'), resolve);
    });
    await new Promise((r) => setTimeout(r, 50));
    cg.add({ 'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n' });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['oom']);
    cg.add({ 'cgroup.events': 'populated 0\nfrozen 0\n' });
    await ended;
    expect(seen).toEqual(['oom']);
  });
});

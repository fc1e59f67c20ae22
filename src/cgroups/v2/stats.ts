// Statistics from a v2 cgroup, in the v1-shaped fields runc 1.1 reports them in. Files of
// controllers that are not enabled are skipped.
import path from 'node:path';
import { hasFile, readCgroupFile, readKeyValues, readUint } from '../fs.js';
import { emptyStats, type BlkioEntry, type Stats } from '../stats.js';
import { hugetlbStats } from '../hugetlb-stats.js';

const U64_MAX = 2n ** 64n - 1n;

function cpu(dir: string, s: Stats): void {
  if (!hasFile(dir, 'cpu.stat')) return;
  const st = readKeyValues(dir, 'cpu.stat');
  const us = (k: string): bigint => (st.get(k) ?? 0n) * 1000n;
  s.cpu.usage.total = us('usage_usec');
  s.cpu.usage.user = us('user_usec');
  s.cpu.usage.kernel = us('system_usec');
  s.cpu.throttling.periods = st.get('nr_periods') ?? 0n;
  s.cpu.throttling.throttledPeriods = st.get('nr_throttled') ?? 0n;
  s.cpu.throttling.throttledTime = us('throttled_usec');
}

function memory(dir: string, s: Stats): void {
  if (!hasFile(dir, 'memory.current')) return;
  const m = s.memory;
  m.raw = readKeyValues(dir, 'memory.stat');
  m.cache = m.raw.get('file') ?? 0n;
  m.usage.usage = readUint(dir, 'memory.current');
  m.usage.limit = readUint(dir, 'memory.max');
  if (hasFile(dir, 'memory.swap.current')) {
    // v1 reported memory + swap; runc keeps that meaning on v2.
    m.swap.usage = readUint(dir, 'memory.swap.current') + m.usage.usage;
    const limit = readUint(dir, 'memory.swap.max');
    m.swap.limit = limit === U64_MAX ? limit : limit + m.usage.limit;
  }
}

function pids(dir: string, s: Stats): void {
  if (!hasFile(dir, 'pids.current')) return;
  s.pids.current = readUint(dir, 'pids.current');
  const max = readCgroupFile(path.join(dir, 'pids.max')).trim();
  s.pids.limit = max === 'max' ? 0n : BigInt(max);
}

function io(dir: string, s: Stats): void {
  if (!hasFile(dir, 'io.stat')) return;
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of readCgroupFile(path.join(dir, 'io.stat')).split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const major = BigInt(m[1] ?? 0);
    const minor = BigInt(m[2] ?? 0);
    for (const pair of pairs) {
      const [k, v] = pair.split('=');
      if (v === undefined || !/^\d+$/.test(v)) continue;
      const entry = (op: string): BlkioEntry => ({ major, minor, op, value: BigInt(v) });
      if (k === 'rbytes') bytes.push(entry('Read'));
      else if (k === 'wbytes') bytes.push(entry('Write'));
      else if (k === 'rios') ios.push(entry('Read'));
      else if (k === 'wios') ios.push(entry('Write'));
    }
  }
  s.blkio.ioServiceBytesRecursive = bytes;
  s.blkio.ioServicedRecursive = ios;
}

function hugetlb(dir: string, s: Stats): void {
  // v2 keeps no peak; failures are the "max" count of hugetlb.<size>.events
  hugetlbStats(dir, s, { usage: 'current' });
  for (const [size, h] of s.hugetlb) {
    if (hasFile(dir, `hugetlb.${size}.events`)) h.failcnt = readKeyValues(dir, `hugetlb.${size}.events`).get('max') ?? 0n;
  }
}

export function statsV2(dir: string): Stats {
  const s = emptyStats();
  cpu(dir, s);
  memory(dir, s);
  pids(dir, s);
  io(dir, s);
  hugetlb(dir, s);
  return s;
}

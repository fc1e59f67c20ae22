// Statistics from the v1 hierarchies, read the way runc 1.1's fs manager reads them.
import path from 'node:path';
import { hasFile, readCgroupFile, readKeyValues, readUint } from '../fs.js';
import { parseCpuList, type BlkioEntry, type MemoryEntry, type Stats } from '../stats.js';

/** USER_HZ: cpuacct.stat counts clock ticks of 10 ms. */
const NS_PER_TICK = 10_000_000n;

const numbers = (text: string): bigint[] =>
  text
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((x) => BigInt(x));

export function cpuacctStats(dir: string, s: Stats): void {
  const u = s.cpu.usage;
  u.total = readUint(dir, 'cpuacct.usage');
  u.percpu = numbers(readCgroupFile(path.join(dir, 'cpuacct.usage_percpu')));
  if (hasFile(dir, 'cpuacct.usage_all')) {
    // "cpu user system" then one line per cpu
    const lines = readCgroupFile(path.join(dir, 'cpuacct.usage_all')).trim().split('\n').slice(1);
    u.percpuUser = [];
    u.percpuKernel = [];
    for (const line of lines) {
      const [, user, sys] = numbers(line);
      u.percpuUser.push(user ?? 0n);
      u.percpuKernel.push(sys ?? 0n);
    }
  }
  const stat = readKeyValues(dir, 'cpuacct.stat');
  u.user = (stat.get('user') ?? 0n) * NS_PER_TICK;
  u.kernel = (stat.get('system') ?? 0n) * NS_PER_TICK;
}

export function cpuStats(dir: string, s: Stats): void {
  const st = readKeyValues(dir, 'cpu.stat');
  s.cpu.throttling.periods = st.get('nr_periods') ?? 0n;
  s.cpu.throttling.throttledPeriods = st.get('nr_throttled') ?? 0n;
  s.cpu.throttling.throttledTime = st.get('throttled_time') ?? 0n;
}

export function cpusetStats(dir: string, s: Stats): void {
  const c = s.cpuset;
  const num = (f: string): bigint => (hasFile(dir, f) ? BigInt(readCgroupFile(path.join(dir, f)).trim()) : 0n);
  c.cpus = parseCpuList(readCgroupFile(path.join(dir, 'cpuset.cpus')));
  c.mems = parseCpuList(readCgroupFile(path.join(dir, 'cpuset.mems')));
  c.cpuExclusive = num('cpuset.cpu_exclusive');
  c.memHardwall = num('cpuset.mem_hardwall');
  c.memExclusive = num('cpuset.mem_exclusive');
  c.memoryMigrate = num('cpuset.memory_migrate');
  c.memorySpreadPage = num('cpuset.memory_spread_page');
  c.memorySpreadSlab = num('cpuset.memory_spread_slab');
  c.memoryPressure = num('cpuset.memory_pressure');
  c.schedLoadBalance = num('cpuset.sched_load_balance');
  c.schedRelaxDomainLevel = num('cpuset.sched_relax_domain_level');
}

function memoryEntry(dir: string, module: string): MemoryEntry | undefined {
  if (!hasFile(dir, `${module}.usage_in_bytes`)) return undefined;
  return {
    usage: readUint(dir, `${module}.usage_in_bytes`),
    max: readUint(dir, `${module}.max_usage_in_bytes`),
    failcnt: readUint(dir, `${module}.failcnt`),
    limit: readUint(dir, `${module}.limit_in_bytes`),
  };
}

export function memoryStats(dir: string, s: Stats): void {
  const m = s.memory;
  m.raw = readKeyValues(dir, 'memory.stat');
  m.cache = m.raw.get('cache') ?? 0n;
  m.usage = memoryEntry(dir, 'memory') ?? m.usage;
  // As in runc, "swap" is v1's memsw: memory and swap together.
  m.swap = memoryEntry(dir, 'memory.memsw') ?? m.swap;
  m.kernel = memoryEntry(dir, 'memory.kmem') ?? m.kernel;
  m.kernelTCP = memoryEntry(dir, 'memory.kmem.tcp') ?? m.kernelTCP;
}

export function pidsStats(dir: string, s: Stats): void {
  s.pids.current = readUint(dir, 'pids.current');
  const max = readCgroupFile(path.join(dir, 'pids.max')).trim();
  s.pids.limit = max === 'max' ? 0n : BigInt(max);
}

/** "8:0 Read 1282048" lines; "Total N" lines are skipped. Undefined when the file is absent. */
export function parseBlkio(dir: string, file: string): BlkioEntry[] | undefined {
  if (!hasFile(dir, file)) return undefined;
  const out: BlkioEntry[] = [];
  for (const line of readCgroupFile(path.join(dir, file)).split('\n')) {
    const f = line.split(/[ :]+/).filter(Boolean);
    if (f.length < 3) continue;
    const [major, minor] = [BigInt(f[0] ?? 0), BigInt(f[1] ?? 0)];
    const op = f.length === 4 ? (f[2] ?? '') : '';
    out.push({ major, minor, op, value: BigInt(f[f.length - 1] ?? 0) });
  }
  return out;
}

type BlkioKey = keyof Stats['blkio'];

// runc's order: the first group whose first file exists supplies everything.
const BLKIO_GROUPS: Array<Array<[string, BlkioKey]>> = [
  [
    ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
    ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.sectors_recursive', 'sectorsRecursive'],
    ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.time_recursive', 'ioTimeRecursive'],
    ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
  ],
];

export function blkioStats(dir: string, s: Stats): void {
  for (const group of BLKIO_GROUPS) {
    const first = group[0];
    if (!first || !hasFile(dir, first[0])) continue;
    for (const [file, key] of group) s.blkio[key] = parseBlkio(dir, file) ?? [];
    return;
  }
}

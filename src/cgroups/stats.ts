// Container statistics in the shape of runc 1.1's `events --stats` JSON (types/events.go),
// which callers parse: field names, which ones are left out when zero, and u64 counters
// that do not fit a JS number (an unlimited v1 limit is 2^63 - 4096), hence bigint.

export interface MemoryEntry {
  limit: bigint;
  usage: bigint;
  max: bigint;
  failcnt: bigint;
}

export interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

export interface Stats {
  cpu: {
    usage: { total: bigint; percpu: bigint[]; percpuKernel: bigint[]; percpuUser: bigint[]; kernel: bigint; user: bigint };
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint };
  };
  cpuset: {
    cpus: number[];
    cpuExclusive: bigint;
    mems: number[];
    memHardwall: bigint;
    memExclusive: bigint;
    memoryMigrate: bigint;
    memorySpreadPage: bigint;
    memorySpreadSlab: bigint;
    memoryPressure: bigint;
    schedLoadBalance: bigint;
    schedRelaxDomainLevel: bigint;
  };
  memory: {
    cache: bigint;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw: Map<string, bigint>;
  };
  pids: { current: bigint; limit: bigint };
  blkio: {
    ioServiceBytesRecursive: BlkioEntry[];
    ioServicedRecursive: BlkioEntry[];
    ioQueueRecursive: BlkioEntry[];
    ioServiceTimeRecursive: BlkioEntry[];
    ioWaitTimeRecursive: BlkioEntry[];
    ioMergedRecursive: BlkioEntry[];
    ioTimeRecursive: BlkioEntry[];
    sectorsRecursive: BlkioEntry[];
  };
  hugetlb: Map<string, { usage: bigint; max: bigint; failcnt: bigint }>;
}

const memoryEntry = (): MemoryEntry => ({ limit: 0n, usage: 0n, max: 0n, failcnt: 0n });

export function emptyStats(): Stats {
  return {
    cpu: {
      usage: { total: 0n, percpu: [], percpuKernel: [], percpuUser: [], kernel: 0n, user: 0n },
      throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
    },
    cpuset: {
      cpus: [],
      cpuExclusive: 0n,
      mems: [],
      memHardwall: 0n,
      memExclusive: 0n,
      memoryMigrate: 0n,
      memorySpreadPage: 0n,
      memorySpreadSlab: 0n,
      memoryPressure: 0n,
      schedLoadBalance: 0n,
      schedRelaxDomainLevel: 0n,
    },
    memory: { cache: 0n, usage: memoryEntry(), swap: memoryEntry(), kernel: memoryEntry(), kernelTCP: memoryEntry(), raw: new Map() },
    pids: { current: 0n, limit: 0n },
    blkio: {
      ioServiceBytesRecursive: [],
      ioServicedRecursive: [],
      ioQueueRecursive: [],
      ioServiceTimeRecursive: [],
      ioWaitTimeRecursive: [],
      ioMergedRecursive: [],
      ioTimeRecursive: [],
      sectorsRecursive: [],
    },
    hugetlb: new Map(),
  };
}

/** "0-2,4" -> [0, 1, 2, 4] */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

// A JSON encoder that writes bigints as numbers and leaves out what Go's omitempty would.
type Json = bigint | number | string | boolean | null | Json[] | Map<string, Json> | { [k: string]: Json | undefined };

function encode(v: Json): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(encode).join(',')}]`;
  const entries = v instanceof Map ? [...v.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : Object.entries(v);
  return `{${entries
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => `${JSON.stringify(k)}:${encode(x as Json)}`)
    .join(',')}}`;
}

const nz = (n: bigint): bigint | undefined => (n === 0n ? undefined : n);
const ne = <T extends Json>(a: T[]): T[] | undefined => (a.length ? a : undefined);

function mem(e: MemoryEntry): Json {
  return { limit: e.limit, usage: nz(e.usage), max: nz(e.max), failcnt: e.failcnt };
}

function blkio(list: BlkioEntry[]): Json[] | undefined {
  return ne(list.map((e) => ({ major: nz(e.major), minor: nz(e.minor), op: e.op || undefined, value: nz(e.value) })));
}

function statsJson(s: Stats): Json {
  const u = s.cpu.usage;
  const t = s.cpu.throttling;
  const c = s.cpuset;
  return {
    cpu: {
      usage: { total: nz(u.total), percpu: ne(u.percpu), percpu_kernel: ne(u.percpuKernel), percpu_user: ne(u.percpuUser), kernel: u.kernel, user: u.user },
      throttling: { periods: nz(t.periods), throttledPeriods: nz(t.throttledPeriods), throttledTime: nz(t.throttledTime) },
    },
    cpuset: {
      cpus: ne(c.cpus),
      cpu_exclusive: c.cpuExclusive,
      mems: ne(c.mems),
      mem_hardwall: c.memHardwall,
      mem_exclusive: c.memExclusive,
      memory_migrate: c.memoryMigrate,
      memory_spread_page: c.memorySpreadPage,
      memory_spread_slab: c.memorySpreadSlab,
      memory_pressure: c.memoryPressure,
      sched_load_balance: c.schedLoadBalance,
      sched_relax_domain_level: c.schedRelaxDomainLevel,
    },
    memory: {
      cache: nz(s.memory.cache),
      usage: mem(s.memory.usage),
      swap: mem(s.memory.swap),
      kernel: mem(s.memory.kernel),
      kernelTCP: mem(s.memory.kernelTCP),
      raw: s.memory.raw.size ? s.memory.raw : undefined,
    },
    pids: { current: nz(s.pids.current), limit: nz(s.pids.limit) },
    blkio: {
      ioServiceBytesRecursive: blkio(s.blkio.ioServiceBytesRecursive),
      ioServicedRecursive: blkio(s.blkio.ioServicedRecursive),
      ioQueueRecursive: blkio(s.blkio.ioQueueRecursive),
      ioServiceTimeRecursive: blkio(s.blkio.ioServiceTimeRecursive),
      ioWaitTimeRecursive: blkio(s.blkio.ioWaitTimeRecursive),
      ioMergedRecursive: blkio(s.blkio.ioMergedRecursive),
      ioTimeRecursive: blkio(s.blkio.ioTimeRecursive),
      sectorsRecursive: blkio(s.blkio.sectorsRecursive),
    },
    hugetlb: new Map([...s.hugetlb].map(([k, h]) => [k, { usage: nz(h.usage), max: nz(h.max), failcnt: h.failcnt }] as [string, Json])),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** One line of `events` output: {"type":"stats","id":...,"data":{...}} or {"type":"oom","id":...}. */
export function encodeEvent(type: 'stats' | 'oom', id: string, stats?: Stats): string {
  return encode({ type, id, data: stats ? statsJson(stats) : undefined });
}

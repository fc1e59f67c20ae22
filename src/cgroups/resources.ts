// The cgroup layer's own resource model (runc's configs.Resources, in the groups of the
// OCI spec so that an error can name the field: `memory.swap`, `cpu.quota`). Numbers are
// plain: -1 means "unlimited" where the kernel has such a value; an absent field is left
// as the kernel has it. Writers for v1 and v2 translate it to files.

export interface MemoryResources {
  limit?: number;
  reservation?: number;
  /** memory + swap, as in v1 (v2 writes swap alone: swap - limit) */
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  /** refuse a limit at or below what the cgroup uses now */
  checkBeforeUpdate?: boolean;
}

export interface CpuResources {
  /** v1 cpu.shares; v2 cpu.weight is derived from it (runc's formula) */
  shares?: number;
  quota?: number;
  period?: number;
  burst?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface DeviceWeight {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface DeviceRate {
  major: number;
  minor: number;
  rate: number;
}

export interface BlockIOResources {
  weight?: number;
  leafWeight?: number;
  weightDevice?: DeviceWeight[];
  throttleReadBpsDevice?: DeviceRate[];
  throttleWriteBpsDevice?: DeviceRate[];
  throttleReadIOPSDevice?: DeviceRate[];
  throttleWriteIOPSDevice?: DeviceRate[];
}

export interface HugepageLimit {
  /** "2MB", "1GB", "64KB" */
  pageSize: string;
  limit: number;
}

export interface NetworkResources {
  classID?: number;
  priorities?: Array<{ name: string; priority: number }>;
}

export interface RdmaLimit {
  hcaHandles?: number;
  hcaObjects?: number;
}

export interface Resources {
  memory?: MemoryResources;
  cpu?: CpuResources;
  pids?: { limit: number };
  blockIO?: BlockIOResources;
  hugepageLimits?: HugepageLimit[];
  network?: NetworkResources;
  rdma?: Record<string, RdmaLimit>;
  /** v2 only: file name -> value, written last */
  unified?: Record<string, string>;
}

/** A value for a v2 ".max"-style file: -1 is "max", 0 (or nothing) is "leave alone". */
export function maxValue(n: number | undefined): string | undefined {
  if (n === undefined || n === 0) return undefined;
  return n === -1 ? 'max' : String(n);
}

/**
 * runc 1.1's conversion of v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]
 * (linear; runc 1.3 moved to a curve, which callers comparing with runc 1.1 would not see).
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's v1 blkio weight [10, 1000] to v2 io.weight [1, 10000]. */
export function blkioToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

const PAGE_SIZE = /^\d+(KB|MB|GB)$/;

export function validPageSize(s: string): boolean {
  return PAGE_SIZE.test(s);
}

/** The fields of o that are set. */
function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Every field set in `update` replaces the one in `base` (lists replace whole). */
export function mergeResources(base: Resources, update: Resources): Resources {
  const out: Resources = { ...base };
  if (update.memory) out.memory = { ...base.memory, ...defined(update.memory) };
  if (update.cpu) out.cpu = { ...base.cpu, ...defined(update.cpu) };
  if (update.pids && update.pids.limit !== 0) out.pids = { ...update.pids };
  if (update.blockIO) out.blockIO = { ...base.blockIO, ...defined(update.blockIO) };
  if (update.hugepageLimits) out.hugepageLimits = update.hugepageLimits;
  if (update.network) out.network = { ...base.network, ...defined(update.network) };
  if (update.rdma) out.rdma = { ...base.rdma, ...update.rdma };
  if (update.unified) out.unified = { ...base.unified, ...update.unified };
  return out;
}

/** Which controller each part of the resources needs, for a clear error when it is missing. */
export function controllersFor(r: Resources): Array<[string, string]> {
  const need: Array<[string, string]> = [];
  const m = r.memory;
  if (m && Object.values(m).some((v) => v !== undefined)) need.push(['memory', 'memory']);
  const c = r.cpu;
  if (c && (c.shares || c.quota || c.period || c.burst !== undefined || c.realtimePeriod || c.realtimeRuntime || c.idle !== undefined)) {
    need.push(['cpu', 'cpu']);
  }
  if (c?.cpus || c?.mems) need.push(['cpuset', c.cpus ? 'cpu.cpus' : 'cpu.mems']);
  if (r.pids && r.pids.limit !== 0) need.push(['pids', 'pids.limit']);
  if (r.blockIO && Object.values(r.blockIO).some((v) => v !== undefined && (!Array.isArray(v) || v.length))) need.push(['blkio', 'blockIO']);
  if (r.hugepageLimits?.length) need.push(['hugetlb', 'hugepageLimits']);
  if (r.network?.classID !== undefined) need.push(['net_cls', 'network.classID']);
  if (r.network?.priorities?.length) need.push(['net_prio', 'network.priorities']);
  if (r.rdma && Object.keys(r.rdma).length) need.push(['rdma', 'rdma']);
  return need;
}

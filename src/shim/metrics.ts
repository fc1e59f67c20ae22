// Stats: the container's cgroup statistics in containerd's types, an Any holding
// io.containerd.cgroups.v1.Metrics where the v1 hierarchies are (hybrid hosts included, as
// containerd's runc shim decides) and io.containerd.cgroups.v2.Metrics on a unified host.
// The runtime reads the files; this only renames. memory.stat keys become MemoryStat fields
// by their protobuf names, which are the kernel's (with v1's few renamed ones).
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { existsSync } from 'node:fs';
import { hasFile, readKeyValues, readUint } from '../cgroups/fs.js';
import type { CgroupManager, CgroupPaths } from '../cgroups/manager.js';
import { hasCgroups } from '../cgroups/rootless.js';
import type { BlkioEntry, Stats } from '../cgroups/stats.js';
import * as v1 from '../gen/io/containerd/cgroups/v1/metrics_pb.js';
import * as v2 from '../gen/io/containerd/cgroups/v2/metrics_pb.js';
import { NotFound } from '../errors.js';

const U64_MAX = 2n ** 64n - 1n;

/** v1 MemoryStat fields whose memory.stat key is spelled otherwise. */
const V1_KEYS: Record<string, string> = {
  pg_pg_in: 'pgpgin',
  pg_pg_out: 'pgpgout',
  pg_fault: 'pgfault',
  pg_maj_fault: 'pgmajfault',
  total_pg_pg_in: 'total_pgpgin',
  total_pg_pg_out: 'total_pgpgout',
  total_pg_fault: 'total_pgfault',
  total_pg_maj_fault: 'total_pgmajfault',
  hierarchical_swap_limit: 'hierarchical_memsw_limit',
};

/** The uint64 fields of a MemoryStat, filled from memory.stat. */
function fromRaw<D extends DescMessage>(schema: D, raw: Map<string, bigint>, keys: Record<string, string> = {}): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const field of schema.fields) {
    if (field.fieldKind !== 'scalar') continue;
    const value = raw.get(keys[field.name] ?? field.name);
    if (value !== undefined) out[field.localName] = value;
  }
  return out;
}

function pack<D extends DescMessage>(schema: D, message: MessageShape<D>): Any {
  // The bare type name, as containerd's typeurl writes it; CRI matches on it.
  return create(AnySchema, { typeUrl: schema.typeName, value: toBinary(schema, message) });
}

function blkio(entries: BlkioEntry[]): v1.BlkIOEntry[] {
  return entries.map((e) => create(v1.BlkIOEntrySchema, { op: e.op, major: e.major, minor: e.minor, value: e.value }));
}

function memoryDir(paths: CgroupPaths): string | undefined {
  for (const [controllers, dir] of Object.entries(paths.v1)) if (controllers.split(',').includes('memory')) return dir;
  return undefined;
}

function metricsV1(s: Stats, paths: CgroupPaths): Any {
  const m = s.memory;
  const entry = (e: typeof m.usage) => create(v1.MemoryEntrySchema, { limit: e.limit, usage: e.usage, max: e.max, failcnt: e.failcnt });
  const memdir = memoryDir(paths);
  const oom = memdir && hasFile(memdir, 'memory.oom_control') ? readKeyValues(memdir, 'memory.oom_control') : undefined;
  return pack(
    v1.MetricsSchema,
    create(v1.MetricsSchema, {
      hugetlb: [...s.hugetlb].map(([pagesize, h]) => create(v1.HugetlbStatSchema, { usage: h.usage, max: h.max, failcnt: h.failcnt, pagesize })),
      pids: { current: s.pids.current, limit: s.pids.limit },
      cpu: {
        usage: { total: s.cpu.usage.total, kernel: s.cpu.usage.kernel, user: s.cpu.usage.user, perCpu: s.cpu.usage.percpu },
        throttling: {
          periods: s.cpu.throttling.periods,
          throttledPeriods: s.cpu.throttling.throttledPeriods,
          throttledTime: s.cpu.throttling.throttledTime,
        },
      },
      memory: {
        ...fromRaw(v1.MemoryStatSchema, m.raw, V1_KEYS),
        usage: entry(m.usage),
        swap: entry(m.swap),
        kernel: entry(m.kernel),
        kernelTcp: entry(m.kernelTCP),
      },
      blkio: {
        ioServiceBytesRecursive: blkio(s.blkio.ioServiceBytesRecursive),
        ioServicedRecursive: blkio(s.blkio.ioServicedRecursive),
        ioQueuedRecursive: blkio(s.blkio.ioQueueRecursive),
        ioServiceTimeRecursive: blkio(s.blkio.ioServiceTimeRecursive),
        ioWaitTimeRecursive: blkio(s.blkio.ioWaitTimeRecursive),
        ioMergedRecursive: blkio(s.blkio.ioMergedRecursive),
        ioTimeRecursive: blkio(s.blkio.ioTimeRecursive),
        sectorsRecursive: blkio(s.blkio.sectorsRecursive),
      },
      memoryOomControl: oom
        ? { oomKillDisable: oom.get('oom_kill_disable') ?? 0n, underOom: oom.get('under_oom') ?? 0n, oomKill: oom.get('oom_kill') ?? 0n }
        : undefined,
    }),
  );
}

/** `dir` undefined: a container without a cgroup, whose stats are all zeros. */
function metricsV2(s: Stats, dir: string | undefined): Any {
  const m = s.memory;
  // The runtime reports v1's memory+swap meaning; containerd's v2 type wants swap alone.
  const swapUsage = m.swap.usage > m.usage.usage ? m.swap.usage - m.usage.usage : 0n;
  const swapLimit = m.swap.limit === U64_MAX || m.swap.limit < m.usage.limit ? m.swap.limit : m.swap.limit - m.usage.limit;
  const io = new Map<string, v2.IOEntry>();
  const ioEntry = (e: BlkioEntry): v2.IOEntry => {
    const key = `${e.major}:${e.minor}`;
    let x = io.get(key);
    if (!x) {
      x = create(v2.IOEntrySchema, { major: e.major, minor: e.minor });
      io.set(key, x);
    }
    return x;
  };
  for (const e of s.blkio.ioServiceBytesRecursive) {
    if (e.op === 'Read') ioEntry(e).rbytes = e.value;
    if (e.op === 'Write') ioEntry(e).wbytes = e.value;
  }
  for (const e of s.blkio.ioServicedRecursive) {
    if (e.op === 'Read') ioEntry(e).rios = e.value;
    if (e.op === 'Write') ioEntry(e).wios = e.value;
  }
  const events = dir && hasFile(dir, 'memory.events') ? readKeyValues(dir, 'memory.events') : undefined;
  return pack(
    v2.MetricsSchema,
    create(v2.MetricsSchema, {
      pids: { current: s.pids.current, limit: s.pids.limit },
      cpu: {
        usageUsec: s.cpu.usage.total / 1000n,
        userUsec: s.cpu.usage.user / 1000n,
        systemUsec: s.cpu.usage.kernel / 1000n,
        nrPeriods: s.cpu.throttling.periods,
        nrThrottled: s.cpu.throttling.throttledPeriods,
        throttledUsec: s.cpu.throttling.throttledTime / 1000n,
      },
      memory: {
        ...fromRaw(v2.MemoryStatSchema, m.raw),
        usage: m.usage.usage,
        usageLimit: m.usage.limit,
        swapUsage,
        swapLimit,
        maxUsage: dir && hasFile(dir, 'memory.peak') ? readUint(dir, 'memory.peak') : 0n,
      },
      io: { usage: [...io.values()] },
      hugetlb: [...s.hugetlb].map(([pagesize, h]) => create(v2.HugeTlbStatSchema, { current: h.usage, max: h.max, pagesize })),
      memoryEvents: events
        ? {
            low: events.get('low') ?? 0n,
            high: events.get('high') ?? 0n,
            max: events.get('max') ?? 0n,
            oom: events.get('oom') ?? 0n,
            oomKill: events.get('oom_kill') ?? 0n,
          }
        : undefined,
    }),
  );
}

export function metricsOf(cgroup: CgroupManager): Any {
  const paths = cgroup.paths;
  if (!hasCgroups(paths)) {
    // A rootless container that has no cgroup of its own: zeros, in the host's version.
    // (containerd's runc shim reports the cgroups its init is in, the caller's: host-wide
    // numbers that are not the container's.)
    const v1Host = (paths.unjoined ?? []).some((k) => k !== '');
    return v1Host ? metricsV1(cgroup.stats(), paths) : metricsV2(cgroup.stats(), undefined);
  }
  if (!cgroup.exists()) throw new NotFound('cgroup does not exist');
  const stats = cgroup.stats();
  if (Object.keys(paths.v1).length > 0) return metricsV1(stats, paths);
  if (!paths.unified || !existsSync(paths.unified)) throw new NotFound('cgroup does not exist');
  return metricsV2(stats, paths.unified);
}

// config.json's linux.resources in the cgroup layer's terms. Values are checked here,
// where the field can be named as the caller wrote it (linux.resources.memory.swap);
// what only the kernel can judge fails later, at the write, with the same naming.
import { defaultDeviceRules } from '../cgroups/default-devices.js';
import type { DeviceRule } from '../cgroups/manager.js';
import { validPageSize, type Resources } from '../cgroups/resources.js';
import { InvalidArgument, TsrunError } from '../errors.js';
import type { Config, DeviceRuleSpec, ResourcesSpec } from '../oci/spec.js';
import { keptDefaultDevices } from './plan/devices.js';

const PREFIX = 'linux.resources';
const MAX_U64 = 2n ** 64n - 1n;

/**
 * runc 1.1's reading of `access`: required, and the set of r, w and m it holds, in that
 * order; other characters are ignored (its device emulator keeps only those three). One
 * with none of them is refused: runc's emulator fails on it ("resulting devices cgroup
 * doesn't precisely match target") unless another rule already covers the device.
 */
function accessOf(access: string | undefined, i: number): string {
  const field = `${PREFIX}.devices[${i}].access`;
  if (!access) throw InvalidArgument.at(field, `device access at ${i} field cannot be empty`);
  const kept = [...'rwm'].filter((c) => access.includes(c)).join('');
  if (!kept) throw InvalidArgument.at(field, `${JSON.stringify(access)} holds none of r, w and m`);
  return kept;
}

export function deviceRulesOf(rules: readonly DeviceRuleSpec[] | undefined): DeviceRule[] {
  return (rules ?? []).map((r, i) => {
    const type = r.type ?? 'a';
    if (type !== 'a' && type !== 'c' && type !== 'b') {
      throw InvalidArgument.at(`${PREFIX}.devices[${i}].type`, `must be "a", "c" or "b", not ${JSON.stringify(type)}`);
    }
    return {
      allow: r.allow,
      type,
      major: r.major === undefined || r.major === null || r.major < 0 ? '*' : r.major,
      minor: r.minor === undefined || r.minor === null || r.minor < 0 ? '*' : r.minor,
      access: accessOf(r.access, i),
    };
  });
}

/** The rules for the devices cgroup: the config's, then runc's defaults still in force. */
export function deviceRules(config: Config): DeviceRule[] {
  const linux = config.linux ?? {};
  return [...deviceRulesOf(linux.resources?.devices), ...defaultDeviceRules(keptDefaultDevices(linux.devices))];
}

/** A u64 of the spec as a number; past 2^53 is refused rather than rounded. */
function u64(v: bigint | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw InvalidArgument.at(field, `${v} is too large`);
  return Number(v);
}

/** The OCI resources (as parsed by src/oci) in the cgroup layer's model. */
export function resourcesOf(spec: ResourcesSpec | undefined, prefix = PREFIX): Resources {
  const r: Resources = {};
  if (!spec) return r;
  const f = (name: string): string => `${prefix}.${name}`;
  if (spec.memory) {
    const m = spec.memory;
    // runc reads swappiness -1 (all ones as a u64) as "not set"
    const swappiness = m.swappiness === undefined || m.swappiness === MAX_U64 ? undefined : u64(m.swappiness, f('memory.swappiness'));
    if (swappiness !== undefined && swappiness > 100) throw InvalidArgument.at(f('memory.swappiness'), `must be between 0 and 100, not ${swappiness}`);
    for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP'] as const) {
      const v = m[k];
      if (v !== undefined && v < -1) throw InvalidArgument.at(f(`memory.${k}`), `must be -1 (unlimited) or a number of bytes, not ${v}`);
    }
    if (m.swap !== undefined && m.swap > 0 && m.limit !== undefined && m.limit > 0 && m.swap < m.limit) {
      throw InvalidArgument.at(f('memory.swap'), `memory+swap (${m.swap}) must not be less than memory.limit (${m.limit})`);
    }
    r.memory = {
      limit: m.limit,
      reservation: m.reservation,
      swap: m.swap,
      kernel: m.kernel,
      kernelTCP: m.kernelTCP,
      swappiness,
      disableOOMKiller: m.disableOOMKiller,
      useHierarchy: m.useHierarchy,
      checkBeforeUpdate: m.checkBeforeUpdate,
    };
  }
  if (spec.cpu) {
    const c = spec.cpu;
    const cpuList = /^(\d+(-\d+)?)(,\d+(-\d+)?)*$/;
    if (c.cpus && !cpuList.test(c.cpus)) throw InvalidArgument.at(f('cpu.cpus'), `not a cpu list: ${JSON.stringify(c.cpus)}`);
    if (c.mems && !cpuList.test(c.mems)) throw InvalidArgument.at(f('cpu.mems'), `not a memory node list: ${JSON.stringify(c.mems)}`);
    r.cpu = {
      shares: u64(c.shares, f('cpu.shares')),
      quota: c.quota,
      period: u64(c.period, f('cpu.period')),
      burst: u64(c.burst, f('cpu.burst')),
      realtimeRuntime: c.realtimeRuntime,
      realtimePeriod: u64(c.realtimePeriod, f('cpu.realtimePeriod')),
      cpus: c.cpus,
      mems: c.mems,
      idle: c.idle,
    };
  }
  if (spec.pids) r.pids = { limit: spec.pids.limit };
  if (spec.blockIO) {
    const b = spec.blockIO;
    const rates = (list: typeof b.throttleReadBpsDevice, name: string) =>
      list?.map((d, i) => ({ major: d.major, minor: d.minor, rate: u64(d.rate, f(`blockIO.${name}[${i}].rate`)) ?? 0 }));
    r.blockIO = {
      weight: b.weight,
      leafWeight: b.leafWeight,
      weightDevice: b.weightDevice?.map((d) => ({ major: d.major, minor: d.minor, weight: d.weight, leafWeight: d.leafWeight })),
      throttleReadBpsDevice: rates(b.throttleReadBpsDevice, 'throttleReadBpsDevice'),
      throttleWriteBpsDevice: rates(b.throttleWriteBpsDevice, 'throttleWriteBpsDevice'),
      throttleReadIOPSDevice: rates(b.throttleReadIOPSDevice, 'throttleReadIOPSDevice'),
      throttleWriteIOPSDevice: rates(b.throttleWriteIOPSDevice, 'throttleWriteIOPSDevice'),
    };
  }
  if (spec.hugepageLimits) {
    r.hugepageLimits = spec.hugepageLimits.map((h, i) => {
      if (!validPageSize(h.pageSize)) throw InvalidArgument.at(f(`hugepageLimits[${i}].pageSize`), `must look like "2MB" or "1GB", not ${JSON.stringify(h.pageSize)}`);
      return { pageSize: h.pageSize, limit: u64(h.limit, f(`hugepageLimits[${i}].limit`)) ?? 0 };
    });
  }
  if (spec.network) r.network = { classID: spec.network.classID, priorities: spec.network.priorities };
  if (spec.rdma) r.rdma = spec.rdma;
  if (spec.unified) r.unified = spec.unified;
  return r;
}

/**
 * An error of the cgroup layer names a field of its model ("memory.swap"); said to the
 * caller it is the config's field ("linux.resources.memory.swap") or an update's.
 */
export function qualifyCgroupError(err: unknown, prefix = PREFIX): unknown {
  if (err instanceof TsrunError && err.field && !err.field.startsWith(prefix) && !err.field.startsWith('-')) return err.under(prefix);
  return err;
}

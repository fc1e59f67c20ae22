// A container's cgroup as systemd unit properties, the way runc 1.1's systemd driver puts
// it: the properties a transient unit starts with, and the resources as the properties that
// SetUnitProperties takes (v1 names on v1 and hybrid hosts, v2 names on unified ones).
// Whatever has no property is still written to the cgroup files afterwards.
import { logger } from '../../log.js';
import { unsupported } from '../fs.js';
import type { DeviceRule } from '../manager.js';
import { sharesToWeight, type Resources } from '../resources.js';
import { devicePolicy } from '../v2/devices.js';
import { swapOnly } from '../v2/memory.js';
import type { UnitProperty } from './connection.js';

/** USEC_INFINITY, and "infinity" for every uint64 limit: Go's uint64(-1). */
const INFINITY = 2n ** 64n - 1n;
/** The kernel's default CFS period, 100 ms, for v1 and v2 alike. */
const DEFAULT_PERIOD = 100_000;

const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

export interface UnitStart {
  unit: string;
  slice: string;
  /** the name part of cgroupsPath, which runc puts in the Description */
  name: string;
  pid: number;
  v2: boolean;
}

/** StartTransientUnit's properties, in runc's order. */
export function startProperties(s: UnitStart): UnitProperty[] {
  const props: UnitProperty[] = [['Description', ['s', `libcontainer container ${s.name}`]]];
  if (s.unit.endsWith('.slice')) {
    // A slice's parent is given by a dependency; a scope is put into its slice.
    props.push(['Wants', ['as', [s.slice]]]);
  } else {
    props.push(['Slice', ['s', s.slice]], ['Delegate', ['b', true]]);
  }
  props.push(['PIDs', ['au', [s.pid]]]);
  props.push(
    ['MemoryAccounting', ['b', true]],
    ['CPUAccounting', ['b', true]],
    [s.v2 ? 'IOAccounting' : 'BlockIOAccounting', ['b', true]],
    ['TasksAccounting', ['b', true]],
    ['DefaultDependencies', ['b', false]],
  );
  return props;
}

/** "0-3,7" as systemd's AllowedCPUs bytes: a little-endian bit mask. */
export function rangeToBits(field: string, list: string): number[] {
  const bytes: number[] = [];
  const set = (bit: number): void => {
    const i = bit >> 3;
    while (bytes.length <= i) bytes.push(0);
    bytes[i] = (bytes[i] ?? 0) | (1 << (bit & 7));
  };
  for (const raw of list.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw unsupported(field, `invalid cpu/mem list ${JSON.stringify(list)}`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (start > end) throw unsupported(field, `invalid range ${JSON.stringify(part)}`);
    for (let b = start; b <= end; b++) set(b);
  }
  while (bytes.length > 0 && bytes[bytes.length - 1] === 0) bytes.pop();
  if (bytes.length === 0) throw unsupported(field, 'empty cpu/mem list');
  return bytes;
}

/**
 * The device rules as DevicePolicy and DeviceAllow. systemd only takes allow-lists: an
 * allow-all list becomes DevicePolicy=auto, any other deny-list a temporary deny-all that the
 * cgroup files put right (v1). The list is reset first so that an update replaces it.
 * `exact` says whether the properties say all the rules do, so that the files need no more.
 */
export function deviceProperties(rules: readonly DeviceRule[], procDevices: () => string): { props: UnitProperty[]; exact: boolean } {
  const policy = devicePolicy(rules);
  if (policy.defaultAllow) {
    if (policy.exceptions.length === 0) return { props: [['DevicePolicy', ['s', 'auto']], ['DeviceAllow', ['a(ss)', []]]], exact: true };
    logger.warn('systemd does not support deny-list device rules: applying a temporary deny-all rule');
    return { props: [['DevicePolicy', ['s', 'strict']], ['DeviceAllow', ['a(ss)', []]]], exact: false };
  }
  const sorted = [...policy.exceptions].sort((a, b) => a.major - b.major || a.minor - b.minor || a.type.localeCompare(b.type));
  const allow: Array<[string, string]> = [];
  let exact = true;
  for (const r of sorted) {
    const kind = r.type === 'c' ? 'char' : 'block';
    if (r.major === -1) {
      if (r.minor !== -1) {
        logger.warn(`systemd does not support '*:n' device rules: ignoring ${r.type} *:${r.minor} ${r.access}`);
        exact = false;
        continue;
      }
      allow.push([`${kind}-*`, r.access]);
    } else if (r.minor === -1) {
      const group = deviceGroup(procDevices(), r.type, r.major);
      if (!group) {
        logger.warn(`no device group for ${r.type} ${r.major}:* in /proc/devices: ignoring the rule`);
        exact = false;
        continue;
      }
      allow.push([`${kind}-${group}`, r.access]);
    } else {
      allow.push([`/dev/${kind}/${r.major}:${r.minor}`, r.access]);
    }
  }
  const props: UnitProperty[] = [
    ['DevicePolicy', ['s', 'strict']],
    ['DeviceAllow', ['a(ss)', []]],
    ['DeviceAllow', ['a(ss)', allow]],
  ];
  return { props, exact };
}

/** The first name /proc/devices gives a major of that type ("pts" for c 136). */
export function deviceGroup(text: string, type: 'c' | 'b', major: number): string | undefined {
  let current: 'c' | 'b' | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('Character devices:')) current = 'c';
    else if (line.startsWith('Block devices:')) current = 'b';
    else if (current === type) {
      const m = /^\s*(\d+)\s+(\S+)/.exec(line);
      if (m && Number(m[1]) === major) return m[2];
    }
  }
  return undefined;
}

function cpuQuota(quota: number | undefined, period: number | undefined, version: () => number): UnitProperty[] {
  const props: UnitProperty[] = [];
  const q = quota ?? 0;
  let p = period ?? 0;
  // CPUQuotaPeriodUSec exists since systemd 242; older ones still get the file.
  if (p !== 0 && version() >= 242) props.push(['CPUQuotaPeriodUSec', ['t', u64(p)]]);
  if (q !== 0 || p !== 0) {
    let perSec = INFINITY;
    if (q > 0) {
      if (p === 0) p = DEFAULT_PERIOD;
      // systemd keeps whole percents: round up to 10 ms per second so that the quota the
      // file gets afterwards is not above the unit's.
      let us = (BigInt(q) * 1_000_000n) / BigInt(p);
      if (us % 10_000n !== 0n) us = (us / 10_000n + 1n) * 10_000n;
      perSec = us;
    }
    props.push(['CPUQuotaPerSecUSec', ['t', perSec]]);
  }
  return props;
}

function cpuset(cpus: string | undefined, mems: string | undefined, version: () => number): UnitProperty[] {
  if (!cpus && !mems) return [];
  // AllowedCPUs and AllowedMemoryNodes exist since systemd 244.
  if (version() < 244) return [];
  const props: UnitProperty[] = [];
  if (cpus) props.push(['AllowedCPUs', ['ay', rangeToBits('cpu.cpus', cpus)]]);
  if (mems) props.push(['AllowedMemoryNodes', ['ay', rangeToBits('cpu.mems', mems)]]);
  return props;
}

export interface ResourceContext {
  v2: boolean;
  /** systemd's version number (e.g. 252), asked only when a property depends on it */
  version: () => number;
}

/** SetUnitProperties' properties for the resources, in runc's order (after the devices'). */
export function resourceProperties(r: Resources, ctx: ResourceContext): UnitProperty[] {
  const props: UnitProperty[] = [];
  const m = r.memory ?? {};
  const c = r.cpu ?? {};
  const pids = r.pids?.limit ?? 0;
  if (ctx.v2) {
    if (m.limit) props.push(['MemoryMax', ['t', u64(m.limit)]]);
    if (m.reservation) props.push(['MemoryLow', ['t', u64(m.reservation)]]);
    const swap = swapOnly(m.swap ?? 0, m.limit ?? 0);
    if (swap !== 0) props.push(['MemorySwapMax', ['t', u64(swap)]]);
    if (c.shares) props.push(['CPUWeight', ['t', u64(sharesToWeight(c.shares))]]);
  } else {
    if (m.limit) props.push(['MemoryLimit', ['t', u64(m.limit)]]);
    if (c.shares) props.push(['CPUShares', ['t', u64(c.shares)]]);
  }
  props.push(...cpuQuota(c.quota, c.period, ctx.version));
  if (!ctx.v2 && r.blockIO?.weight) props.push(['BlockIOWeight', ['t', u64(r.blockIO.weight)]]);
  if (pids > 0 || pids === -1) props.push(['TasksMax', ['t', u64(pids)]]);
  props.push(...cpuset(c.cpus, c.mems, ctx.version));
  if (ctx.v2 && r.unified) props.push(...unifiedProperties(r.unified, ctx.version));
  return props;
}

const MEMORY_FILES: Record<string, string> = {
  'memory.high': 'MemoryHigh',
  'memory.low': 'MemoryLow',
  'memory.min': 'MemoryMin',
  'memory.max': 'MemoryMax',
  'memory.swap.max': 'MemorySwapMax',
};

function parseU64(file: string, v: string): bigint {
  if (v === 'max') return INFINITY;
  if (!/^\d+$/.test(v)) throw unsupported(`unified.${file}`, `value ${JSON.stringify(v)} is not a number`);
  return BigInt(v);
}

/** linux.resources.unified files that have a unit property; the rest go to the files only. */
export function unifiedProperties(unified: Record<string, string>, version: () => number): UnitProperty[] {
  const props: UnitProperty[] = [];
  for (const [file, raw] of Object.entries(unified)) {
    const v = raw.trim();
    if (file === 'cpu.max') {
      const f = v.split(/\s+/);
      if (f.length < 1 || f.length > 2) throw unsupported(`unified.${file}`, `invalid value ${JSON.stringify(v)}`);
      const quota = f[0] === 'max' ? 0 : Number(parseU64(file, f[0] ?? ''));
      const period = f[1] === undefined ? DEFAULT_PERIOD : Number(parseU64(file, f[1]));
      props.push(...cpuQuota(quota, period, version));
    } else if (file === 'cpu.weight') {
      props.push(['CPUWeight', ['t', parseU64(file, v)]]);
    } else if (file === 'cpuset.cpus' || file === 'cpuset.mems') {
      if (version() >= 244) props.push([file === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes', ['ay', rangeToBits(`unified.${file}`, v)]]);
    } else if (MEMORY_FILES[file]) {
      props.push([MEMORY_FILES[file], ['t', parseU64(file, v)]]);
    } else if (file === 'pids.max') {
      props.push(['TasksMax', ['t', parseU64(file, v)]]);
    }
  }
  return props;
}

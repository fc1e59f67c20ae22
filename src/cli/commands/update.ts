// update: runc's flags, or --resources with LinuxResources JSON from a file or stdin
// (go-runc sends `update --resources -`); with --resources the other flags are ignored.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { InvalidArgument } from '../../errors.js';
import { logger } from '../../log.js';
import { parseGoJson } from '../../oci/go-json.js';
import type { ResourcesInput } from '../../oci/spec.js';
import { runtimeOf } from '../context.js';

interface UpdateFlags {
  resources?: string;
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuBurst?: string;
  cpuShare?: string;
  cpuShares?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  cpuIdle?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  pidsLimit?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker/go-units RAMInBytes: "512", "100m", "1.5g", "64KiB" (binary units); "-1" is unlimited. */
export function ramInBytes(flag: string, text: string): number {
  if (text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(text);
  if (!m) throw InvalidArgument.at(flag, `invalid size: ${JSON.stringify(text)}`);
  return Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

function int(flag: string, text: string, unsigned: boolean): number {
  if (!(unsigned ? /^\d+$/ : /^-?\d+$/).test(text)) {
    throw InvalidArgument.at(flag, `invalid value for ${flag.slice(2)}: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** The LinuxResources JSON that runc's flags stand for. */
export function resourcesFromFlags(f: UpdateFlags): Record<string, unknown> {
  const memory: Record<string, number> = {};
  const cpu: Record<string, number | string> = {};
  const out: Record<string, unknown> = { memory, cpu };
  if (f.blkioWeight !== undefined && int('--blkio-weight', f.blkioWeight, true) !== 0) out.blockIO = { weight: Number(f.blkioWeight) };
  if (f.cpusetCpus) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems) cpu.mems = f.cpusetMems;
  if (f.cpuIdle !== undefined) cpu.idle = int('--cpu-idle', f.cpuIdle, false);
  const shares = f.cpuShare ?? f.cpuShares;
  for (const [flag, key, value] of [
    ['--cpu-burst', 'burst', f.cpuBurst],
    ['--cpu-period', 'period', f.cpuPeriod],
    ['--cpu-rt-period', 'realtimePeriod', f.cpuRtPeriod],
    ['--cpu-share', 'shares', shares],
  ] as const) {
    if (value) cpu[key] = int(flag, value, true);
  }
  if (f.cpuQuota) cpu.quota = int('--cpu-quota', f.cpuQuota, false);
  if (f.cpuRtRuntime) cpu.realtimeRuntime = int('--cpu-rt-runtime', f.cpuRtRuntime, false);
  if (f.memory) memory.limit = ramInBytes('--memory', f.memory);
  if (f.memorySwap) memory.swap = ramInBytes('--memory-swap', f.memorySwap);
  if (f.memoryReservation) memory.reservation = ramInBytes('--memory-reservation', f.memoryReservation);
  for (const [flag, v] of [['--kernel-memory', f.kernelMemory], ['--kernel-memory-tcp', f.kernelMemoryTcp]] as const) {
    if (v) logger.warn(`Setting ${flag} is ignored and will be removed`);
  }
  if (f.pidsLimit !== undefined) out.pids = { limit: int('--pids-limit', f.pidsLimit, false) };
  return out;
}

/** The LinuxResources JSON of --resources (a file, or stdin for '-'), judged by the library. */
function readResources(source: string): unknown {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw InvalidArgument.at('--resources', `read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = parseGoJson(text);
  } catch (err) {
    throw InvalidArgument.at('--resources', `invalid JSON: ${(err as Error).message}`);
  }
  return json;
}

export function updateCommand(): Command {
  return new Command('update')
    .description('update container resource constraints')
    .argument('<container-id>')
    .option('-r, --resources <file>', "LinuxResources JSON from a file, or '-' for stdin (other flags are then ignored)")
    .option('--blkio-weight <n>', 'per-cgroup block IO weight (10 to 1000)')
    .option('--cpu-period <us>', 'CPU CFS period in microseconds')
    .option('--cpu-quota <us>', 'CPU CFS quota in microseconds per period')
    .option('--cpu-burst <us>', 'CPU CFS burst in microseconds')
    .option('--cpu-share <n>', 'CPU shares (relative weight)')
    .option('--cpu-shares <n>', 'the same as --cpu-share')
    .option('--cpu-rt-period <us>', 'realtime period in microseconds')
    .option('--cpu-rt-runtime <us>', 'realtime runtime in microseconds per period')
    .option('--cpuset-cpus <list>', 'CPUs to use')
    .option('--cpuset-mems <list>', 'memory nodes to use')
    .option('--cpu-idle <0|1>', 'SCHED_IDLE for the cgroup')
    .option('--memory <bytes>', 'memory limit (100m, 1g, -1 for none)')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--memory-swap <bytes>', 'memory + swap limit (-1 for unlimited swap)')
    .option('--kernel-memory <bytes>', 'obsolete, ignored')
    .option('--kernel-memory-tcp <bytes>', 'obsolete, ignored')
    .option('--pids-limit <n>', 'maximum number of pids')
    .option('--l3-cache-schema <schema>', 'Intel RDT L3 cache schema')
    .option('--mem-bw-schema <schema>', 'Intel RDT memory bandwidth schema')
    .action(async (id: string, flags: UpdateFlags, cmd: Command) => {
      const rt = runtimeOf(cmd);
      await rt.state(id); // an unknown container is named before any flag, as runc does
      if (flags.l3CacheSchema) throw InvalidArgument.at('--l3-cache-schema', 'Intel RDT/CAT: l3 cache schema is not enabled');
      if (flags.memBwSchema) throw InvalidArgument.at('--mem-bw-schema', 'Intel RDT/MBA: memory bandwidth schema is not enabled');
      if (flags.resources) await rt.update(id, readResources(flags.resources) as ResourcesInput, { field: '--resources' });
      else await rt.update(id, resourcesFromFlags(flags) as ResourcesInput, { field: 'update' });
    });
}

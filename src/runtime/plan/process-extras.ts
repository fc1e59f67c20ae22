// Process settings beyond identity and limits, for a container's init and for exec'd
// processes alike: oom_score_adj, scheduler, I/O priority, CPU affinity, LSM labels,
// personality.
import { InvalidArgument } from '../../errors.js';
import type { Plan, PlanScheduler } from '../../native/index.js';
import type { LinuxSpec, ProcessSpec } from '../../oci/spec.js';
import { requireApparmor, requireSelinux } from './lsm.js';

const POLICIES: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

const SCHED_FLAGS: Record<string, bigint> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01n,
  SCHED_FLAG_RECLAIM: 0x02n,
  SCHED_FLAG_DL_OVERRUN: 0x04n,
  SCHED_FLAG_KEEP_POLICY: 0x08n,
  SCHED_FLAG_KEEP_PARAMS: 0x10n,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20n,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40n,
};

const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** "0-3,7" -> [0, 1, 2, 3, 7] */
export function parseCpuList(text: string, field: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw InvalidArgument.at(field, `${JSON.stringify(text)} is not a CPU list such as "0-3,7"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > 8191) throw InvalidArgument.at(field, `bad CPU range ${JSON.stringify(part)}`);
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus];
}

function scheduler(s: ProcessSpec['scheduler'], field: string): PlanScheduler | null {
  if (!s) return null;
  const policy = POLICIES[s.policy];
  if (policy === undefined) throw InvalidArgument.at(`${field}.policy`, `unknown policy ${JSON.stringify(s.policy)}`);
  let flags = 0n;
  for (const [i, f] of (s.flags ?? []).entries()) {
    const bit = SCHED_FLAGS[f];
    if (bit === undefined) throw InvalidArgument.at(`${field}.flags[${i}]`, `unknown flag ${JSON.stringify(f)}`);
    flags |= bit;
  }
  if ((policy === 1 || policy === 2) && (s.priority ?? 0) < 1) {
    throw InvalidArgument.at(`${field}.priority`, `${s.policy} needs a priority from 1 to 99`);
  }
  if (policy === 6 && !(s.runtime && s.deadline)) {
    throw InvalidArgument.at(field, 'SCHED_DEADLINE needs runtime and deadline');
  }
  return {
    policy,
    nice: s.nice ?? 0,
    priority: s.priority ?? 0,
    flags,
    runtime: s.runtime ?? 0n,
    deadline: s.deadline ?? 0n,
    period: s.period ?? 0n,
  };
}

export type ProcessExtras = Pick<Plan, 'oomScoreAdj' | 'scheduler' | 'ioPriority' | 'cpusInitial' | 'cpusFinal' | 'apparmorProfile' | 'selinuxLabel' | 'personality'>;

export function planProcessExtras(p: ProcessSpec, linux: LinuxSpec | undefined, prefix = 'process'): ProcessExtras {
  if (p.oomScoreAdj !== undefined && (p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000)) {
    throw InvalidArgument.at(`${prefix}.oomScoreAdj`, `${p.oomScoreAdj} is outside -1000..1000`);
  }
  let ioPriority = -1;
  if (p.ioPriority) {
    const cls = IOPRIO_CLASSES[p.ioPriority.class];
    if (cls === undefined) throw InvalidArgument.at(`${prefix}.ioPriority.class`, `unknown class ${JSON.stringify(p.ioPriority.class)}`);
    const prio = p.ioPriority.priority ?? 0;
    if (prio < 0 || prio > 7) throw InvalidArgument.at(`${prefix}.ioPriority.priority`, `${prio} is outside 0..7`);
    ioPriority = (cls << 13) | prio;
  }
  if (p.apparmorProfile) requireApparmor(`${prefix}.apparmorProfile`);
  if (p.selinuxLabel) requireSelinux(`${prefix}.selinuxLabel`);
  let personality: number | null = null;
  if (linux?.personality) {
    const domain = PERSONALITY_DOMAINS[linux.personality.domain];
    if (domain === undefined) throw InvalidArgument.at('linux.personality.domain', `unknown domain ${JSON.stringify(linux.personality.domain)}`);
    if (linux.personality.flags?.length) throw InvalidArgument.at('linux.personality.flags', 'personality flags are not supported (as in runc)');
    personality = domain;
  }
  const aff = p.execCPUAffinity;
  return {
    oomScoreAdj: p.oomScoreAdj ?? null,
    scheduler: scheduler(p.scheduler, `${prefix}.scheduler`),
    ioPriority,
    cpusInitial: aff?.initial ? parseCpuList(aff.initial, `${prefix}.execCPUAffinity.initial`) : [],
    cpusFinal: aff?.final ? parseCpuList(aff.final, `${prefix}.execCPUAffinity.final`) : [],
    apparmorProfile: p.apparmorProfile ?? '',
    selinuxLabel: p.selinuxLabel ?? '',
    personality,
  };
}

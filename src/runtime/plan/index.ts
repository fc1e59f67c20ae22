// config.json -> the plan tsrun-init executes. Everything that can be decided before the
// clone is decided here, in TypeScript; the native side only carries it out.
import type { CgroupLayout } from '../../cgroups/detect.js';
import type { CgroupPaths } from '../../cgroups/manager.js';
import { Unimplemented } from '../../errors.js';
import type { Plan } from '../../native/index.js';
import type { Config } from '../../oci/spec.js';
import { PROPAGATION } from './mount-options.js';
import { planDevices } from './devices.js';
import { planMounts } from './mounts.js';
import { planNamespaces } from './namespaces.js';
import { planProcess } from './process.js';

export interface PlanInput {
  id: string;
  bundle: string;
  config: Config;
  /** the rootfs as an absolute, resolved host path */
  rootfs: string;
  cgroupPaths: CgroupPaths;
  layout: CgroupLayout;
  noPivot: boolean;
  noNewKeyring: boolean;
}

/**
 * Fields that change what a container may do or see, refused until they are built: running
 * without them would be a weaker container than the caller asked for.
 */
export function refuseUnbuilt(c: Config): void {
  const no = (field: string, what = 'is not supported yet'): never => {
    throw new Unimplemented(`${field}: ${what}`, { field });
  };
  const linux = c.linux ?? {};
  const hooks = c.hooks ?? {};
  for (const [name, list] of Object.entries(hooks)) if (list && list.length) no(`hooks.${name}`);
  if (linux.seccomp) no('linux.seccomp');
  for (const ns of linux.namespaces ?? []) {
    if (ns.type === 'user' || ns.type === 'time') no('linux.namespaces', `the ${ns.type} namespace is not supported yet`);
  }
  if (linux.uidMappings?.length) no('linux.uidMappings');
  if (linux.gidMappings?.length) no('linux.gidMappings');
  if (linux.timeOffsets) no('linux.timeOffsets');
  if (linux.sysctl && Object.keys(linux.sysctl).length) no('linux.sysctl');
  if (linux.personality) no('linux.personality');
  if (linux.intelRdt) no('linux.intelRdt');
  if (linux.mountLabel) no('linux.mountLabel');
  if (linux.netDevices && Object.keys(linux.netDevices).length) no('linux.netDevices');
  if (linux.memoryPolicy) no('linux.memoryPolicy');
  const p = c.process;
  if (p?.apparmorProfile) no('process.apparmorProfile');
  if (p?.selinuxLabel) no('process.selinuxLabel');
  if (p?.oomScoreAdj !== undefined) no('process.oomScoreAdj');
  if (p?.scheduler) no('process.scheduler');
  if (p?.ioPriority) no('process.ioPriority');
  if (p?.execCPUAffinity) no('process.execCPUAffinity');
}

export function buildPlan(input: PlanInput): Plan {
  const { config } = input;
  const linux = config.linux ?? {};
  const namespaces = planNamespaces(linux.namespaces);
  const mounts = planMounts(config.mounts ?? [], {
    bundle: input.bundle,
    layout: input.layout,
    cgroupPaths: input.cgroupPaths,
    cgroupNamespace: namespaces.some((n) => n.type === 'cgroup'),
  });
  const rootfsOps = [...mounts.ops];
  if (mounts.setupDev) rootfsOps.push(...planDevices(linux.devices, false));
  if (!config.process) throw new Error('buildPlan needs process');
  return {
    containerId: input.id,
    namespaces,
    rootfs: input.rootfs,
    rootfsPropagation: linux.rootfsPropagation ? (PROPAGATION[linux.rootfsPropagation] ?? 0) : 0,
    noPivot: input.noPivot,
    readonlyRoot: config.root?.readonly ?? false,
    readonlyDev: mounts.readonlyDev,
    newKeyring: !input.noNewKeyring,
    rootfsOps,
    hostname: config.hostname || null,
    domainname: config.domainname || null,
    readonlyPaths: linux.readonlyPaths ?? [],
    maskedPaths: linux.maskedPaths ?? [],
    process: planProcess(config.process),
    fifoFd: -1,
    consoleSocketFd: -1,
    preserveFds: 0,
  };
}

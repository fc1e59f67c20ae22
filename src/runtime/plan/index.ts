// config.json -> the plan tsrun-init executes. Everything that can be decided before the
// clone is decided here, in TypeScript; the native side only carries it out.
import type { CgroupLayout } from '../../cgroups/detect.js';
import type { CgroupPaths } from '../../cgroups/manager.js';
import { InvalidArgument, Unimplemented } from '../../errors.js';
import { OpKind, type Plan } from '../../native/index.js';
import type { Config, LinuxSpec } from '../../oci/spec.js';
import { PROPAGATION } from '../../oci/mount-options.js';
import { planDevices } from './devices.js';
import { planMounts } from './mounts.js';
import { planNamespaces } from './namespaces.js';
import { planProcess } from './process.js';
import { emptyPlan } from './base.js';
import { planHooks } from './hooks.js';
import { planProcessExtras } from './process-extras.js';
import { planSysctl } from './sysctl.js';
import { requireSelinux } from './lsm.js';
import { planSeccomp } from './seccomp.js';

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
  /** the runtime itself runs in a user namespace (rootless podman, RootlessKit): no mknod */
  inUserNamespace?: boolean;
  /** the caller's euid is not 0: its process keeps the groups it inherited */
  unprivileged?: boolean;
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
  if (linux.netDevices && Object.keys(linux.netDevices).length) no('linux.netDevices');
  if (linux.memoryPolicy) no('linux.memoryPolicy');
}

/** Filesystems that take a context= mount option for linux.mountLabel. */
const LABELLED_FS = new Set(['tmpfs', 'devpts', 'mqueue', 'shm']);

function checkUserNamespace(linux: LinuxSpec): boolean {
  const ns = (linux.namespaces ?? []).find((n) => n.type === 'user');
  const maps = (linux.uidMappings?.length ?? 0) + (linux.gidMappings?.length ?? 0);
  if (!ns) {
    if (maps) throw InvalidArgument.at('linux.uidMappings', 'id mappings need a user namespace in linux.namespaces');
    return false;
  }
  // Joined by path, the namespace has its maps already; containerd repeats them in the config.
  if (ns.path) return false;
  if (!linux.uidMappings?.length) throw InvalidArgument.at('linux.uidMappings', 'a new user namespace needs uid mappings');
  if (!linux.gidMappings?.length) throw InvalidArgument.at('linux.gidMappings', 'a new user namespace needs gid mappings');
  return true;
}

function timeOffsets(linux: LinuxSpec): Plan['timeOffsets'] {
  if (!linux.timeOffsets) return null;
  const ns = (linux.namespaces ?? []).find((n) => n.type === 'time');
  if (!ns || ns.path) throw InvalidArgument.at('linux.timeOffsets', 'offsets need a new time namespace in linux.namespaces');
  for (const clock of Object.keys(linux.timeOffsets)) {
    if (clock !== 'monotonic' && clock !== 'boottime') throw InvalidArgument.at(`linux.timeOffsets.${clock}`, 'only monotonic and boottime clocks have offsets');
  }
  const { monotonic, boottime } = linux.timeOffsets;
  return {
    monotonicSecs: BigInt(monotonic?.secs ?? 0),
    monotonicNsecs: monotonic?.nanosecs ?? 0,
    boottimeSecs: BigInt(boottime?.secs ?? 0),
    boottimeNsecs: boottime?.nanosecs ?? 0,
  };
}

export function buildPlan(input: PlanInput): Plan {
  const { config } = input;
  const linux = config.linux ?? {};
  if (!config.process) throw InvalidArgument.at('process', 'is required to create a container');
  const namespaces = planNamespaces(linux.namespaces);
  const newUserNs = checkUserNamespace(linux);
  const mounts = planMounts(config.mounts ?? [], {
    bundle: input.bundle,
    layout: input.layout,
    cgroupPaths: input.cgroupPaths,
    cgroupNamespace: namespaces.some((n) => n.type === 'cgroup'),
    userns: newUserNs ? { uids: linux.uidMappings ?? [], gids: linux.gidMappings ?? [] } : undefined,
  });
  const rootfsOps = [...mounts.ops];
  // In any user namespace but the host's (new, joined, or the runtime's own) mknod is
  // refused: bind the host's nodes.
  const userns = namespaces.some((n) => n.type === 'user') || (input.inUserNamespace ?? false);
  if (mounts.setupDev) rootfsOps.push(...planDevices(linux.devices, userns));
  if (linux.mountLabel) {
    requireSelinux('linux.mountLabel');
    for (const op of rootfsOps) {
      if (op.kind === OpKind.Mount && LABELLED_FS.has(op.fstype)) op.data = [op.data, `context="${linux.mountLabel}"`].filter(Boolean).join(',');
    }
  }
  const hooks = config.hooks ?? {};
  const anyHooks = Object.values(hooks).some((list) => (list?.length ?? 0) > 0);
  return {
    ...emptyPlan(input.id, planProcess(config.process, input.unprivileged)),
    ...planProcessExtras(config.process, linux),
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
    usernsMaps: newUserNs,
    timeOffsets: timeOffsets(linux),
    hooksSync: anyHooks,
    createContainerHooks: planHooks(hooks.createContainer),
    startContainerHooks: planHooks(hooks.startContainer),
    sysctl: planSysctl(linux),
    seccomp: planSeccomp(config),
  };
}

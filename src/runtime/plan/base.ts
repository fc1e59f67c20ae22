// The plan with nothing in it: every builder starts here, so a field added to the plan has
// its "off" value in one place.
import type { Plan, PlanProcess } from '../../native/index.js';

export function emptyPlan(containerID: string, process: PlanProcess): Plan {
  return {
    containerID,
    namespaces: [],
    rootfs: '',
    rootfsPropagation: 0,
    noPivot: false,
    readonlyRoot: false,
    readonlyDev: false,
    newKeyring: true,
    rootfsOps: [],
    hostname: null,
    domainname: null,
    readonlyPaths: [],
    maskedPaths: [],
    process,
    fifoFd: -1,
    consoleSocketFd: -1,
    preserveFds: 0,
    mode: 'create',
    joinFd: -1,
    usernsMaps: false,
    timeOffsets: null,
    hooksSync: false,
    createContainerHooks: [],
    startContainerHooks: [],
    sysctl: [],
    oomScoreAdj: null,
    personality: null,
    scheduler: null,
    ioPriority: -1,
    cpusInitial: [],
    cpusFinal: [],
    apparmorProfile: '',
    selinuxLabel: '',
    seccomp: null,
    debug: false,
    cgroupTasks: [],
  };
}

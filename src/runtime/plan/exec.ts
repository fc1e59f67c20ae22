// The plan for a process exec'd into a running container: the container's namespaces
// (joined through its init's pidfd), its keyring choice, and the process itself.
import type { Plan } from '../../native/index.js';
import type { Config, ProcessSpec } from '../../oci/spec.js';
import { planNamespaces } from './namespaces.js';
import { planProcess } from './process.js';

export function buildExecPlan(id: string, config: Config, process: ProcessSpec, noNewKeyring: boolean): Plan {
  return {
    containerId: id,
    // Joined, not made: the path is unused, the pidfd names them all.
    namespaces: planNamespaces(config.linux?.namespaces).map((n) => ({ type: n.type, path: '' })),
    rootfs: '',
    rootfsPropagation: 0,
    noPivot: false,
    readonlyRoot: false,
    readonlyDev: false,
    newKeyring: !noNewKeyring,
    rootfsOps: [],
    hostname: null,
    domainname: null,
    readonlyPaths: [],
    maskedPaths: [],
    process: planProcess(process),
    fifoFd: -1,
    consoleSocketFd: -1,
    preserveFds: 0,
    mode: 'exec',
    joinFd: -1,
  };
}

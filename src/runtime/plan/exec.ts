// The plan for a process exec'd into a running container: the container's namespaces
// (joined through its init's pidfd), its keyring choice, and the process itself.
import type { Plan } from '../../native/index.js';
import type { Config, ProcessSpec } from '../../oci/spec.js';
import { emptyPlan } from './base.js';
import { planNamespaces } from './namespaces.js';
import { planProcessExtras } from './process-extras.js';
import { planProcess } from './process.js';
import { planSeccomp } from './seccomp.js';

export function buildExecPlan(id: string, config: Config, process: ProcessSpec, noNewKeyring: boolean, unprivileged = false): Plan {
  return {
    ...emptyPlan(id, planProcess(process, unprivileged)),
    ...planProcessExtras(process, config.linux),
    // Joined, not made: the path is unused, the pidfd names them all.
    namespaces: planNamespaces(config.linux?.namespaces).map((n) => ({ type: n.type, path: '' })),
    newKeyring: !noNewKeyring,
    mode: 'exec',
    // runc applies the container's profile to every process exec'd into it.
    seccomp: planSeccomp(config),
  };
}

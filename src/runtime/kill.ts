// kill: a signal to the container's init, or with --all to every process in its cgroups.
import { constants as os } from 'node:os';
import type { CgroupManager } from '../cgroups/manager.js';
import { hasCgroups } from '../cgroups/rootless.js';
import { FailedPrecondition, messageOf } from '../errors.js';
import { logger } from '../log.js';
import type { Container } from './container.js';

/**
 * Signals every process of the cgroups. SIGKILL goes through cgroup.kill where the kernel
 * has it (v2); otherwise the processes are frozen meanwhile, as runc does, so that none
 * can fork a child the signal would miss.
 */
export async function signalAll(cgroup: CgroupManager, signal: number): Promise<void> {
  // cgroup.kill reaches every task at once, forks in flight included.
  if (signal === os.signals.SIGKILL && cgroup.killAll()) return;
  try {
    await cgroup.freeze();
  } catch (err) {
    logger.warn(`freeze before signalling: ${messageOf(err)}`);
  }
  try {
    for (const pid of cgroup.procs()) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') logger.warn(`signal ${pid}: ${messageOf(err)}`);
      }
    }
  } finally {
    await cgroup.thaw();
  }
}

/**
 * --all for a container a rootless create left without cgroups: nothing lists its
 * processes, but with a pid namespace of its own they go with its init, which the kernel
 * kills with the namespace (runc 1.1.5 fails here; runc 1.2 signals the init the same way).
 */
function signalAllWithoutCgroup(container: Container, status: string, signal: number): void {
  if (status === 'stopped') return;
  if (!container.state.ownPidNamespace) throw noCgroupToSignal(container.id);
  container.signalInit(signal);
}

/** --all where no cgroup lists the processes and no pid namespace of its own takes them. */
export function noCgroupToSignal(containerId: string): FailedPrecondition {
  return new FailedPrecondition('cannot signal all processes: the container has no cgroup to find them in and shares its pid namespace', { containerId });
}

export async function kill(container: Container, signal: number, all: boolean): Promise<void> {
  const status = container.status();
  if (all) {
    if (!hasCgroups(container.state.cgroupPaths)) return signalAllWithoutCgroup(container, status, signal);
    const cgroup = container.cgroup();
    if (status === 'stopped' && !cgroup.exists()) return;
    await signalAll(cgroup, signal);
    return;
  }
  if (status === 'stopped') throw new FailedPrecondition('container not running', { containerId: container.id });
  container.signalInit(signal);
  // A frozen task takes SIGKILL only once thawed.
  if (signal === os.signals.SIGKILL && status === 'paused') await container.cgroup().thaw();
}

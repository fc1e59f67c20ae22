// pause and resume: the freezer (v1 freezer.state, v2 cgroup.freeze), waiting until every
// task has stopped (FROZEN, "frozen 1") or runs again, as runc does.
import { FailedPrecondition } from '../errors.js';
import type { Container } from './container.js';

export async function pause(container: Container): Promise<void> {
  const status = container.status();
  if (status !== 'running' && status !== 'created') {
    throw new FailedPrecondition(`container not running or created: ${status}`, { containerId: container.id });
  }
  const cgroup = container.cgroup();
  // runc's words (a rootless container may have no freezer, or no cgroup at all)
  if (!cgroup.canFreeze()) throw new FailedPrecondition('cannot toggle freezer: cgroups not configured for container', { containerId: container.id });
  await cgroup.freeze();
}

export async function resume(container: Container): Promise<void> {
  const status = container.status();
  if (status !== 'paused') throw new FailedPrecondition('container not paused', { containerId: container.id });
  await container.cgroup().thaw();
}

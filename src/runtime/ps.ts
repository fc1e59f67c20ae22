// ps: the container's processes (their pids in the runtime's pid namespace).
import { hasCgroups } from '../cgroups/rootless.js';
import type { Container } from './container.js';

export function containerPids(container: Container): number[] {
  const cgroup = container.cgroup();
  // Gone: no processes. Never made (rootless): procs() says there is no telling.
  if (!cgroup.exists() && hasCgroups(container.state.cgroupPaths)) return [];
  return cgroup.procs().sort((a, b) => a - b);
}

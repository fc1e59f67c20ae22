// update: new resource limits for a live container. As runc, the change is merged into
// the resources in force (stored with the state) and the whole set is written again,
// because some values only make sense together (memory and memory+swap, quota and
// period); devices are never touched. The merged set is saved once the kernel took it.
import { mergeResources, type Resources } from '../cgroups/resources.js';
import { FailedPrecondition } from '../errors.js';
import type { ResourcesSpec } from '../oci/spec.js';
import { qualifyCgroupError, resourcesOf } from './cgroup-config.js';
import type { Container } from './container.js';

/** Applies the OCI-shaped change (runc's `update --resources` JSON, or its flags). */
export function update(container: Container, spec: ResourcesSpec, fieldPrefix = 'linux.resources'): void {
  const change = resourcesOf(spec, fieldPrefix);
  apply(container, change, fieldPrefix);
}

function apply(container: Container, change: Resources, fieldPrefix: string): void {
  if (container.status() === 'stopped') throw new FailedPrecondition('container not running', { containerId: container.id });
  const base = container.state.resources ?? {};
  const merged = mergeResources(base, change);
  // "limit -1 and no swap": runc's update reads it as "both unlimited".
  if (change.memory?.limit === -1 && change.memory.swap === undefined && merged.memory) merged.memory.swap = -1;
  try {
    container.cgroup().set(merged);
  } catch (err) {
    throw qualifyCgroupError(err, fieldPrefix);
  }
  container.state.resources = merged;
  container.store.save(container.state);
}

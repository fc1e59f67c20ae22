// linux.namespaces -> the plan's namespaces, in the order they must be entered: the user
// namespace first (it owns the others), the rest as runc orders them.
import type { NamespaceSpec } from '../../oci/spec.js';
import type { NsType, PlanNamespace } from '../../native/index.js';

const ORDER: readonly NsType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'mount', 'cgroup', 'time'];

export function planNamespaces(namespaces: readonly NamespaceSpec[] = []): PlanNamespace[] {
  return namespaces
    .map((ns) => ({ type: ns.type as NsType, path: ns.path ?? '' }))
    .sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));
}

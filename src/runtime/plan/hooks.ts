// Hooks as tsrun-init runs them (createContainer, startContainer): inside the container.
import type { PlanHook } from '../../native/index.js';
import type { Config } from '../../oci/spec.js';

type HookSpec = NonNullable<NonNullable<Config['hooks']>['prestart']>[number];

export function planHooks(hooks: readonly HookSpec[] | undefined): PlanHook[] {
  return (hooks ?? []).map((h) => ({ path: h.path, args: h.args ?? [h.path], env: h.env ?? [], timeout: h.timeout ?? 0 }));
}

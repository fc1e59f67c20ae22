// process -> the plan's process: identity, capability masks, rlimits.
import { capabilityNumber } from '../../oci/capabilities.js';
import { RLIMITS } from '../../oci/rlimits.js';
import type { ProcessSpec } from '../../oci/spec.js';
import type { PlanProcess } from '../../native/index.js';

function capMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const n = capabilityNumber(name);
    if (n !== undefined) mask |= 1n << BigInt(n);
  }
  return mask;
}

/** `keepGroups`: an unprivileged caller, whose process keeps its inherited groups (runc). */
export function planProcess(p: ProcessSpec, keepGroups = false): PlanProcess {
  const caps = p.capabilities ?? {};
  return {
    args: p.args ?? [],
    env: p.env ?? [],
    cwd: p.cwd,
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: p.user.additionalGids ?? [],
    umask: p.user.umask ?? -1,
    caps: {
      bounding: capMask(caps.bounding),
      effective: capMask(caps.effective),
      permitted: capMask(caps.permitted),
      inheritable: capMask(caps.inheritable),
      ambient: capMask(caps.ambient),
    },
    rlimits: (p.rlimits ?? []).map((r) => ({ resource: RLIMITS[r.type] ?? -1, soft: r.soft, hard: r.hard })),
    noNewPrivileges: p.noNewPrivileges ?? false,
    terminal: p.terminal ?? false,
    keepGroups,
    consoleHeight: p.consoleSize?.height ?? 0,
    consoleWidth: p.consoleSize?.width ?? 0,
  };
}

// Every scenario, in the order the suite reports them: runtime.md, then config.md, then
// config-linux.md and runtime-linux.md.
import type { ScenarioDef } from '../lib/scenario.js';
import * as hooks from './config-hooks.js';
import * as misc from './config-misc.js';
import * as idmap from './config-mounts-idmap.js';
import * as configProcess from './config-process.js';
import * as rootMounts from './config-root-mounts.js';
import * as cgroups from './linux-cgroups.js';
import * as devices from './linux-devices.js';
import * as namespaces from './linux-namespaces.js';
import * as paths from './linux-paths.js';
import * as seccomp from './linux-seccomp.js';
import * as security from './linux-security.js';
import * as sysctl from './linux-sysctl.js';
import * as userns from './linux-userns.js';
import * as lifecycle from './runtime-lifecycle.js';
import * as operations from './runtime-operations.js';
import * as runtimeState from './runtime-state.js';

function scenarios(mod: Record<string, unknown>): ScenarioDef[] {
  return Object.values(mod).filter((v): v is ScenarioDef => typeof v === 'object' && v !== null && 'run' in v && 'checks' in v);
}

export const SCENARIOS: ScenarioDef[] = [
  runtimeState,
  operations,
  lifecycle,
  rootMounts,
  idmap,
  configProcess,
  hooks,
  misc,
  namespaces,
  userns,
  devices,
  cgroups,
  paths,
  sysctl,
  seccomp,
  security,
].flatMap(scenarios);

// The package's entry: `import { Runtime } from 'tsrun'`. What is exported here is the
// documented API (README, "tsrun as a library"); the other files of src/api serve the CLI
// and the shim too, which are its clients.
export {
  Runtime,
  type RuntimeOptions,
  type CreateOptions,
  type ExecOptions,
  type SpawnOptions,
  type KillOptions,
  type DeleteOptions,
  type UpdateOptions,
} from './runtime.js';
export { Container } from './container.js';
export { ExecProcess } from './process.js';
export { Terminal } from './terminal.js';
export type { Exit } from './child.js';
export type { StdioOption, StdioSlot, StdioKind } from './stdio.js';
export type { ContainerEvent, EventsOptions } from './events.js';
export { eventLine, spec, features, VERSION } from './info.js';
export type { OciState as State, Status } from '../oci/state.js';
export type { Config, ProcessInput, ProcessSpec, ResourcesInput, ResourcesSpec } from '../oci/spec.js';
export type { Stats } from '../cgroups/stats.js';
export type { CgroupPaths } from '../cgroups/manager.js';
export type { Spawner, Spawned, SpawnRequest, ProcessExit } from '../runtime/spawner.js';
export {
  ERROR_KINDS,
  TsrunError,
  InvalidArgument,
  NotFound,
  AlreadyExists,
  FailedPrecondition,
  PermissionDenied,
  Unavailable,
  Unimplemented,
  Timeout,
  HookFailed,
  Internal,
  SystemError,
  type ErrorKind,
} from '../errors.js';

// The caller a command runs for (src/runtime/invocation.ts), for the CLI and the CLI server:
// this program, or the process the server runs a call for. Not part of the documented
// library (index.ts).
export { callerPath, invocation, withInvocation, type Invocation } from '../runtime/invocation.js';
export type { Spawner } from '../runtime/spawner.js';

// What the library says without a container: its version (and libseccomp's), runc's default
// config, the OCI features document, runc's JSON line for an event, the default state root
// and the reading of --rootless.
import { defaultSpec, type SpecOptions } from '../oci/defaults.js';
import { VERSION } from '../package.js';
import { eventLine } from '../runtime/events.js';
import { features as featuresOf } from '../runtime/features.js';

export { VERSION, eventLine };
export { seccompLibraryVersion } from '../runtime/features.js';
export { defaultStateRoot, parseRootlessFlag } from '../runtime/rootless.js';

/** runc's default config.json (`tsrun spec`), with the caller's ids for a rootless one. */
export function spec(opts: SpecOptions = {}): Record<string, unknown> {
  return defaultSpec({ uid: process.getuid?.(), gid: process.getgid?.(), ...opts });
}

/** The OCI features document (`tsrun features`). */
export function features(): Record<string, unknown> {
  return featuresOf(VERSION);
}

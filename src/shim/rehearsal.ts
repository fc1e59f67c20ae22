// A spare's rehearsal. The first config a process reads runs the schema's code for the first
// time (V8 compiles it and learns its shapes then): ~10-15 ms, where each later read takes
// under 0.5. A spare does that once on the default spec while it waits, so that the brain it
// becomes does not do it inside containerd's first Create.
import { defaultSpec } from '../oci/defaults.js';
import { parseGoJson } from '../oci/go-json.js';
import { parseConfig } from '../oci/validate.js';

export function rehearse(): void {
  const text = JSON.stringify(defaultSpec());
  parseGoJson(text);
  parseConfig(text);
}

// A rehearsal of create, for a process that will create containers later and has time now
// (a shim's spare while it waits). The first config a process reads, the first plan it
// builds and encodes, run code V8 has not compiled or seen the shapes of yet: ~15 ms on the
// first container, under 2 on the next. This runs them once on the default spec, making
// nothing and touching no container, so that the first Create does not pay for it.
import { hostLayout } from '../cgroups/detect.js';
import { cgroupPaths } from '../cgroups/paths.js';
import { encodePlan } from '../native/index.js';
import { defaultSpec } from '../oci/defaults.js';
import { parseGoJson } from '../oci/go-json.js';
import { parseConfig } from '../oci/validate.js';
import { buildPlan } from '../runtime/plan/index.js';

export function rehearseCreate(): void {
  const text = JSON.stringify(defaultSpec());
  parseGoJson(text);
  const parsed = parseConfig(text);
  if (!parsed.ok) return;
  const id = 'rehearsal';
  const layout = hostLayout();
  const paths = cgroupPaths(parsed.config.linux?.cgroupsPath, id, layout);
  encodePlan(buildPlan({ id, bundle: '/', config: parsed.config, rootfs: '/', cgroupPaths: paths, layout, noPivot: false, noNewKeyring: false }));
}

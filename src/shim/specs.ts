// The JSON documents containerd sends inside Anys: an exec's OCI process and Update's
// OCI LinuxResources, each under its runtime-spec type URL.
import type { Any } from '@bufbuild/protobuf/wkt';
import { InvalidArgument } from '../errors.js';
import { schemas, type ProcessSpec, type ResourcesSpec } from '../oci/spec.js';
import { parseGoJson } from '../oci/go-json.js';
import { fieldPath, parseProcess } from '../oci/validate.js';

const PROCESS_SPEC_TYPE = 'types.containerd.io/opencontainers/runtime-spec/1/Process';
const RESOURCES_TYPE = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';

/** Update's resources: an OCI LinuxResources object as JSON. */
export function resourcesSpec(any: Any | undefined): ResourcesSpec {
  if (!any || !any.typeUrl.endsWith(RESOURCES_TYPE)) {
    throw InvalidArgument.at('resources', `expected an Any of type ${RESOURCES_TYPE}, got ${JSON.stringify(any?.typeUrl ?? '')}`);
  }
  let json: unknown;
  try {
    json = parseGoJson(new TextDecoder().decode(any.value));
  } catch (err) {
    throw InvalidArgument.at('resources', `invalid JSON: ${(err as Error).message}`);
  }
  const parsed = schemas().Resources.safeParse(json);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw InvalidArgument.at(`resources${issue?.path.length ? `.${fieldPath(issue.path)}` : ''}`, issue?.message ?? 'invalid');
  }
  return parsed.data;
}

/** An exec's process from its Any: an OCI process object as JSON. */
export function execSpec(any: Any | undefined): ProcessSpec {
  if (!any || !any.typeUrl.endsWith(PROCESS_SPEC_TYPE)) {
    throw InvalidArgument.at('spec', `expected an Any of type ${PROCESS_SPEC_TYPE}, got ${JSON.stringify(any?.typeUrl ?? '')}`);
  }
  const parsed = parseProcess(new TextDecoder().decode(any.value));
  if (!parsed.ok) {
    const [first] = parsed.issues;
    throw InvalidArgument.at(`spec: ${first?.field ?? ''}`, first?.message ?? 'invalid process');
  }
  return parsed.process;
}

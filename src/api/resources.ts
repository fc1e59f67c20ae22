// New resource limits as a caller gives them (an object, or the JSON runc's update reads),
// judged by config.json's schema, with the field at fault named from `where`.
import { InvalidArgument } from '../errors.js';
import { schemas, type ResourcesSpec } from '../oci/spec.js';
import { fieldPath } from '../oci/validate.js';

export function resourcesFromJson(json: unknown, where: string): ResourcesSpec {
  const parsed = schemas().Resources.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw InvalidArgument.at(`${where}: ${fieldPath(issue?.path ?? [])}`, (issue?.message ?? 'invalid').toLowerCase());
  }
  return parsed.data;
}

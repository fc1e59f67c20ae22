// Values a caller gives (a process, new resources) judged by config.json's schema. A caller
// may hand back what the library gave it (`config(id).process`), whose 64-bit fields are
// bigints: they are read as the numbers JSON would have carried, rounded past 2^53 as JSON's
// are, so that both forms mean the same.
import { InvalidArgument } from '../errors.js';
import { schemas, type ResourcesSpec } from '../oci/spec.js';
import { fieldPath } from '../oci/validate.js';

/** value with every bigint in it a number. */
export function asJson(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(asJson);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asJson(v)]));
  return value;
}

export function resourcesFromJson(json: unknown, where: string): ResourcesSpec {
  const parsed = schemas().Resources.safeParse(asJson(json));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw InvalidArgument.at(`${where}: ${fieldPath(issue?.path ?? [])}`, (issue?.message ?? 'invalid').toLowerCase());
  }
  return parsed.data;
}

// JSON as runc's Go decoder reads it. Go's encoding/json leaves a field untouched when its
// value is null (a nil slice, map or pointer, or the zero value), so for runc `"hostname":
// null` is no hostname. Go programs write null for nil slices without `omitempty`, and jq
// edits and hand-written configs do too: a member whose value is null is read as absent.
// Null elements of arrays are kept, and refused by the schema with their index.

/** JSON.parse, with every object member whose value is null left out. */
export function parseGoJson(text: string): unknown {
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown) {
    // a reviver's undefined deletes an object's member; in an array it would leave a hole
    return value === null && !Array.isArray(this) ? undefined : value;
  });
}

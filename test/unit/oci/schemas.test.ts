import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { schemas } from '../../../src/oci/spec.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('schemas', () => {
  it('are built once while in use', () => {
    expect(schemas()).toBe(schemas());
  });

  it('go with the garbage once unused, and are built again when needed', async () => {
    const weak = new WeakRef(schemas());
    // A WeakRef holds its target until the current job ends.
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(weak.deref()).toBeUndefined();
    expect(schemas().Config.safeParse({ ociVersion: '1.0.2' }).success).toBe(true);
    expect(schemas().Config.safeParse({}).success).toBe(false);
  });
});

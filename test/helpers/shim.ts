// The shim's private containerd for a test file: started before its tests, stopped after.
// Everything else lives in shim-containerd.ts (which the benchmarks use too).
import { afterAll, beforeAll } from 'vitest';
import { startShimContainerd, type ShimContainerd } from './shim-containerd.js';

export * from './shim-containerd.js';

/**
 * One private containerd for the calling test file: started before its tests, stopped
 * (everything removed) after. Call the returned function inside tests.
 */
export function shimContainerdForFile(options?: Parameters<typeof startShimContainerd>[0]): () => ShimContainerd {
  let env: ShimContainerd | undefined;
  beforeAll(async () => {
    env = await startShimContainerd(options);
  }, 60_000);
  afterAll(async () => {
    await env?.stop();
  }, 60_000);
  return () => {
    if (!env) throw new Error('the shim containerd did not start');
    return env;
  };
}


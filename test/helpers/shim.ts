// The shim's private containerd for a test file: started before its tests, stopped after.
// Everything else lives in shim-containerd.ts (which the benchmarks use too).
import { forFile } from './for-file.js';
import { startShimContainerd, type ShimContainerd } from './shim-containerd.js';

export * from './shim-containerd.js';

/** The tests' brains leave with their last group (TSRUN_SHIM_BRAIN_LINGER_MS=0), so that a
 *  test can check that nothing is left once its containers are gone; shim-linger.test.ts
 *  tests the default's wait for a next group. */
export const NO_LINGER = { TSRUN_SHIM_BRAIN_LINGER_MS: '0' };

/** One private containerd for the calling test file; call the returned function inside tests. */
export function shimContainerdForFile(options: Parameters<typeof startShimContainerd>[0] = {}): () => ShimContainerd {
  return forFile('the shim containerd', () => startShimContainerd({ ...options, shimEnv: { ...NO_LINGER, ...options.shimEnv } }), 60_000);
}

// The shim's private containerd for a test file: started before its tests, stopped after.
// Everything else lives in shim-containerd.ts (which the benchmarks use too).
import { forFile } from './for-file.js';
import { startShimContainerd, type ShimContainerd } from './shim-containerd.js';

export * from './shim-containerd.js';

/** One private containerd for the calling test file; call the returned function inside tests. */
export function shimContainerdForFile(options?: Parameters<typeof startShimContainerd>[0]): () => ShimContainerd {
  return forFile('the shim containerd', () => startShimContainerd(options), 60_000);
}

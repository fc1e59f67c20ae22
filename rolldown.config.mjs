// The CLI and the shim server, each as one file: Node then loads one module instead of
// hundreds (zod alone has hundreds of small ESM files), which is most of what `tsrun` costs
// above `node -e 0`, and half of what a shim server costs to start (measured here: 640 ms
// from dist/ against 320 ms bundled, `node -e 0` 115 ms, on a loaded machine).
// bin/tsrun and the shim launcher prefer the bundles and fall back to dist/.
import { defineConfig } from 'rolldown';

export default defineConfig([
  {
    input: 'dist/cli/main.js',
    platform: 'node',
    output: { file: 'dist/bundle/tsrun.mjs', format: 'esm', sourcemap: false },
  },
  {
    input: 'dist/shim/main.js',
    platform: 'node',
    output: { file: 'dist/bundle/shim.mjs', format: 'esm', sourcemap: false },
  },
]);

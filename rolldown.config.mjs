// The CLI as one file: Node then loads one module instead of hundreds (zod alone has
// hundreds of small ESM files), which is most of what `tsrun` costs above `node -e 0`.
// `npm run build:bundle`; bin/tsrun prefers the bundle and falls back to dist/.
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: 'dist/cli/main.js',
  platform: 'node',
  output: { file: 'dist/bundle/tsrun.mjs', format: 'esm', sourcemap: false },
});

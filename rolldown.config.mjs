// The CLI and the shim server, each as one file: Node then loads one module instead of
// hundreds (zod alone has hundreds of small ESM files), which is most of what `tsrun` costs
// above `node -e 0`, and half of what a shim server costs to start (measured here: 640 ms
// from dist/ against 320 ms bundled, `node -e 0` 115 ms, on a loaded machine).
// bin/tsrun and the shim launcher prefer the bundles and fall back to dist/.
//
// The CLI bundle is CommonJS, minified and ASCII-only, for bin/tsrun to compile with V8's
// code cache (scripts/code-cache.cjs): a plain script skips the ESM loader, half the bytes
// halve what V8 reads and scans, and a one-byte source string is what the cache expects.
import { defineConfig } from 'rolldown';

// commander requires child_process at load time for executable subcommands, which tsrun
// has none of; loading it costs several ms on every command. The require moves to the call.
const lazyChildProcess = {
  name: 'commander-lazy-child-process',
  transform(code, id) {
    if (!id.replaceAll('\\', '/').endsWith('node_modules/commander/lib/command.js')) return null;
    const eager = "const childProcess = require('node:child_process');";
    if (!code.includes(eager)) {
      this.warn('commander no longer requires child_process as expected: the CLI loads it eagerly');
      return null;
    }
    return code.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };");
  },
};

export default defineConfig([
  {
    input: 'dist/cli/main.js',
    platform: 'node',
    plugins: [lazyChildProcess],
    output: { file: 'dist/bundle/tsrun.cjs', format: 'cjs', sourcemap: false, minify: true, charset: 'ascii', comments: false },
  },
  {
    input: 'dist/shim/main.js',
    platform: 'node',
    // Minified and ASCII-only too, for memory: a shim server lives as long as its containers,
    // and V8 keeps the module's source string for as long as functions may still compile
    // lazily. Unminified, a non-ASCII character in a comment made it two-byte (605 kB of
    // source, 1.2 MB in memory); minified it is 308 kB of one-byte. Measured with 10 idle
    // spares: USS 13.65 -> 12.76 MiB a process. ESM still: a CJS bundle measured larger
    // (15.1 MiB), the CommonJS loader being one more thing to load.
    output: { file: 'dist/bundle/shim.mjs', format: 'esm', sourcemap: false, minify: true, charset: 'ascii', comments: false },
  },
]);

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
    // source, 1.2 MB in memory); minified it is 250 kB of one-byte.
    // CommonJS for what an ES module costs in a long-lived process: the ESM loader's own
    // modules, and the namespace object of each builtin it imports, whose every lazy getter
    // it reads (node:fs's `promises` loads fs/promises and readline, node:util's loads
    // mime and parseArgs, node:net's blocklist and socketaddress). A CommonJS require reads
    // only what is used: 22 fewer builtins loaded. One namespace-grouped server serving 10
    // containers, settled: USS 13.40 -> 12.90 MiB; an idle spare: 11.47 -> 10.74 MiB.
    // What the server imports dynamically (metrics) is a chunk of its own, shim-<name>.cjs.
    output: { dir: 'dist/bundle', entryFileNames: 'shim.cjs', chunkFileNames: 'shim-[name].cjs', format: 'cjs', sourcemap: false, minify: true, charset: 'ascii', comments: false },
  },
]);

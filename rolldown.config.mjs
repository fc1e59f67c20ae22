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

// protobuf-es decodes each embedded file descriptor (fileDesc) with the reflection of
// descriptor.proto itself, booted when its module loads and held by a module binding for
// the process's life: ~0.6 MiB of descriptors in a shim server that needs them only while
// its own descriptors are decoded (at load, and once more for the metrics chunk). Here the
// boot becomes a function, and fileDesc holds its result through a WeakRef: one boot serves
// every fileDesc of a load (a WeakRef keeps its target until the job ends), and the garbage
// collector takes it after. The other exports of descriptor_pb keep their eager form for
// any code that imports them (none in the shim; they fall to tree shaking). One namespace-
// grouped server, 10 containers, settled: Private_Dirty 8.07 -> 7.27 MiB.
const PROTOBUF_ESM = 'node_modules/@bufbuild/protobuf/dist/esm/';
const transientDescriptorProto = {
  name: 'protobuf-transient-descriptor-proto',
  transform(code, id) {
    const file = id.replaceAll('\\', '/');
    const edit = (from, to) => {
      if (!code.includes(from)) {
        this.warn(`${file}: "${from.slice(0, 60)}" not found: descriptor.proto stays loaded in every shim server`);
        return false;
      }
      code = code.replace(from, to);
      return true;
    };
    if (file.endsWith(`${PROTOBUF_ESM}wkt/google/protobuf/descriptor_pb.js`)) {
      if (!edit('export const file_google_protobuf_descriptor = /*@__PURE__*/ boot(', 'export const bootDescriptorProto = () => boot(')) return null;
      return `${code}\nexport const file_google_protobuf_descriptor = /*@__PURE__*/ bootDescriptorProto();\n`;
    }
    if (file.endsWith(`${PROTOBUF_ESM}codegenv2/file.js`)) {
      const imported = 'import { FileDescriptorProtoSchema } from "../wkt/google/protobuf/descriptor_pb.js";';
      const lazy = [
        'import { bootDescriptorProto } from "../wkt/google/protobuf/descriptor_pb.js";',
        'import { messageDesc as descriptorMessage } from "./message.js";',
        'let descriptorProto;',
        'function fileDescriptorProtoSchema() {',
        '  let file = descriptorProto?.deref();',
        '  if (!file) { file = bootDescriptorProto(); descriptorProto = new WeakRef(file); }',
        '  return descriptorMessage(file, 1);',
        '}',
      ].join('\n');
      if (!edit(imported, lazy) || !edit('fromBinary(FileDescriptorProtoSchema,', 'fromBinary(fileDescriptorProtoSchema(),')) return null;
      return code;
    }
    return null;
  },
};

export default defineConfig([
  {
    input: 'dist/cli/main.js',
    platform: 'node',
    plugins: [lazyChildProcess],
    output: { file: 'dist/bundle/tsrun.cjs', format: 'cjs', sourcemap: false, minify: true, charset: 'ascii', comments: false },
  },
  // The CLI server (src/server): started once per user and kept, so neither minified for
  // start-up nor code-cached; a bundle of its own, so that the CLI's does not carry it.
  {
    input: 'dist/server/entry.js',
    platform: 'node',
    plugins: [lazyChildProcess],
    output: { file: 'dist/bundle/tsrun-server.cjs', format: 'cjs', sourcemap: false, minify: true, charset: 'ascii', comments: false },
  },
  {
    input: 'dist/shim/main.js',
    platform: 'node',
    plugins: [transientDescriptorProto],
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

// npm pack's prepack step: the native core built here goes into the package as the prebuilt
// binaries for this platform (prebuilds/<platform>-<arch>/), which an install on the same
// platform loads instead of building from source (scripts/install-native.cjs). N-API keeps
// the addon good for every Node with N-API 8 (Node 20 and later); tsrun-init and the shim
// launcher are static. postpack takes the directory away again.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prebuilds = path.join(root, 'prebuilds');
const FILES = ['tsrun_native.node', 'tsrun-init', 'containerd-shim-ts-v2'];

if (process.argv[2] === 'clean') {
  rmSync(prebuilds, { recursive: true, force: true });
} else {
  const from = path.join(root, 'build', 'Release');
  const missing = FILES.filter((f) => !existsSync(path.join(from, f)));
  if (missing.length) {
    console.error(`pack: ${missing.join(', ')} not built in ${from}: run npm run build:native first`);
    process.exit(1);
  }
  const to = path.join(prebuilds, `${process.platform}-${process.arch}`);
  rmSync(prebuilds, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const f of FILES) copyFileSync(path.join(from, f), path.join(to, f));
}

// Where tsrun is installed and which version it is: the nearest package.json named tsrun
// above this file (the repository, or the installed package). package.json is the one place
// the version is written; the shim launcher's build reads it there too (CMakeLists.txt).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Internal } from './errors.js';

function findPackage(from: string): { root: string; version: string } {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tsrun') return { root: dir, version: pkg.version ?? '' };
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) throw new Internal(`tsrun's package.json not found above ${from}`);
  }
}

const found = findPackage(path.dirname(fileURLToPath(import.meta.url)));

/** The repository (or installed package) root. */
export const packageRoot = found.root;
/** tsrun's version, as package.json says. */
export const VERSION = found.version;

/** What `git describe` said when tsrun was built (scripts/build-info.mjs), or the version. */
export function buildCommit(): string {
  try {
    const info = JSON.parse(readFileSync(path.join(packageRoot, 'dist', 'build-info.json'), 'utf8')) as { commit?: unknown };
    if (typeof info.commit === 'string' && info.commit) return info.commit;
  } catch {
    // not built by the build scripts (a tree compiled by tsc alone)
  }
  return VERSION;
}

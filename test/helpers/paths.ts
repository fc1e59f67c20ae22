import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory up with tsrun's package.json: the helpers also run compiled, from
 *  .cache/bench/test/helpers (npm run bench), where a fixed '../..' would miss. */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'tsrun') return dir;
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) throw new Error(`tsrun's package.json not found above ${from}`);
  }
}

export const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
/** What callers run: the native client, which hands calls to the warm CLI server (or runs bin/tsrun.cjs). */
export const tsrunBin = path.join(repoRoot, 'bin', 'tsrun');
/** tsrun in a Node of its own, for tests of the CLI process itself (its system calls, its fork-safety). */
export const tsrunNodeBin = path.join(repoRoot, 'bin', 'tsrun.cjs');
export const fixtureRootfs = path.join(repoRoot, '.cache', 'fixtures', 'busybox', 'rootfs');
/** Every cgroup a test creates lives under this parent, in every hierarchy. */
export const TEST_CGROUP_PARENT = 'tsrun-test';

/** The shim server's script the launcher runs: the bundle when built, else the compiled tree. */
export const shimServerScript = existsSync(path.join(repoRoot, 'dist', 'bundle', 'shim.cjs'))
  ? path.join(repoRoot, 'dist', 'bundle', 'shim.cjs')
  : path.join(repoRoot, 'dist', 'shim', 'main.js');

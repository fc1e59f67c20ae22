// Writes dist/build-info.json: what `tsrun --version` prints on its `commit:` line, taken
// when the build runs (an installed tsrun has no git repository to ask). Outside a git
// checkout there is no commit to name, and the line says the package's version instead.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
let commit;
try {
  commit = execFileSync('git', ['describe', '--always', '--dirty', '--tags'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  commit = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
}
mkdirSync(path.join(root, 'dist'), { recursive: true });
writeFileSync(path.join(root, 'dist', 'build-info.json'), `${JSON.stringify({ commit })}\n`);

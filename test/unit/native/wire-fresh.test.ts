// src/native/wire.gen.ts is generated from cpp/plan/*.def and committed. This regenerates it
// into a temp dir and fails on any difference: a description changed without
// `npm run gen:wire`, or the generated file edited by hand.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../../helpers/paths.js';
import { tempDirsPerTest } from '../../helpers/temp-dirs.js';

const tempDir = tempDirsPerTest('wire-gen');

it('src/native/wire.gen.ts is what `npm run gen:wire` makes from cpp/plan/*.def', () => {
  const fresh = path.join(tempDir(), 'wire.gen.ts');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/gen-wire.mjs'), fresh], { stdio: ['ignore', 'pipe', 'pipe'] });
  expect(readFileSync(path.join(repoRoot, 'src/native/wire.gen.ts'), 'utf8')).toBe(readFileSync(fresh, 'utf8'));
});

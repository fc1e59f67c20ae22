// The import arrows of architecture.md, checked: every relative import under src/ must
// follow an arrow drawn there.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';

const SRC = path.join(repoRoot, 'src');

/** layer -> layers it may import (besides itself). errors and log serve all but oci and ttrpc. */
const ALLOWED: Record<string, string[]> = {
  cli: ['runtime', 'oci', 'errors', 'log', 'package'],
  shim: ['runtime', 'ttrpc', 'gen', 'cgroups', 'oci', 'native', 'errors', 'log'],
  runtime: ['oci', 'cgroups', 'seccomp', 'native', 'errors', 'log'],
  cgroups: ['native', 'errors', 'log'],
  seccomp: ['native', 'errors', 'log'],
  native: ['errors', 'log', 'package'],
  ttrpc: ['gen'],
  oci: [],
  gen: [],
  errors: [],
  package: ['errors'],
  log: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? (rel[0] ?? '').replace(/\.ts$/, '') : (rel[0] ?? '');
}

describe('architecture', () => {
  it('every import under src/ follows an arrow of architecture.md', () => {
    const wrong: string[] = [];
    for (const file of files(SRC)) {
      const from = layerOf(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts'));
        const to = layerOf(target);
        if (to !== from && !(ALLOWED[from] ?? []).includes(to)) wrong.push(`${path.relative(repoRoot, file)} -> ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('only src/native loads the addon', () => {
    const loaders = files(SRC).filter((f) => /tsrun_native\.node/.test(readFileSync(f, 'utf8')));
    expect(loaders.map((f) => path.relative(SRC, f))).toEqual(['native/addon.ts']);
  });
});

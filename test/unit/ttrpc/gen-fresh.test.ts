// src/gen and test/helpers/cri/gen are generated and committed. This regenerates each from its
// .proto tree into a temp dir, with the Debian's protoc and the pinned protoc-gen-es from
// node_modules (no network), and fails on any difference: a .proto changed without `npm run gen`,
// or a generated file edited by hand.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'tsrun-gen-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else found.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return found;
}

const trees = [
  { protos: 'proto', committed: 'src/gen' },
  { protos: 'test/helpers/cri/proto', committed: 'test/helpers/cri/gen' },
];

for (const { protos, committed: dir } of trees) {
  it(`${dir} is what \`npm run gen\` makes from ${protos}/`, { timeout: 30_000 }, () => {
    const fresh = join(out, dir.replace(/\//g, '_'));
    execFileSync('bash', [join(root, 'scripts/gen.sh'), join(root, protos), fresh], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const made = files(fresh);
    const committed = files(join(root, dir));
    expect([...committed.keys()].sort()).toEqual([...made.keys()].sort());
    for (const [path, text] of made) expect(committed.get(path), `${dir}/${path} is stale: run npm run gen`).toBe(text);
  });
}

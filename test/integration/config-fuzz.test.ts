// config.json fuzzing against `tsrun create` itself, a few fixed-seed cases (FUZZ_CREATE_RUNS
// and FUZZ_SEED under `npm run fuzz`): a refused config exits non-zero with one line naming
// the field and no stack trace, and leaves nothing behind; an accepted one is created and
// deleted. Fields that could reach outside the test's own cgroup, namespaces or mounts are
// not fuzzed here (they are in the in-process fuzzer).
import path from 'node:path';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, tsrun } from '../helpers/cli.js';
import { configArb } from '../helpers/config-arb.js';
import { leftoverCgroups, leftoverMounts, processesWith } from '../helpers/leaks.js';

const RUNS = Number(process.env.FUZZ_CREATE_RUNS ?? 12);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_0012);
const EXCLUDE = ['linux.cgroupsPath', 'hooks', 'linux.sysctl', 'linux.namespaces', 'linux.rootfsPropagation', 'linux.intelRdt'];

const b = new TestBundle('cfgfuzz', ['sleep', '1000']);
const base = JSON.stringify(b.config);
afterAll(() => b.remove());

it(`${RUNS} generated configs: created, or refused with one line naming the field and nothing left`, { timeout: 300_000 }, async () => {
  const cases = fc.sample(configArb(() => JSON.parse(base), EXCLUDE), { seed: SEED, numRuns: RUNS });
  const outcomes = { created: 0, refused: 0 };
  for (const [i, c] of cases.entries()) {
    b.config = c;
    b.write();
    const id = `${b.id}-${i}`;
    const r = await tsrun(b.root, ['create', '--bundle', b.dir, id]);
    const what = `case ${i}: ${JSON.stringify(c).slice(0, 600)}\n${r.stderr}`;
    if (r.code === 0) {
      outcomes.created++;
      expect((await tsrun(b.root, ['delete', '--force', id])).code, what).toBe(0);
    } else {
      outcomes.refused++;
      expect(r.code, what).toBe(1);
      expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(r.stderr, what).not.toMatch(/\n\s+at |TypeError|ReferenceError/);
      // "field: what" or the init's "step mounts[n] ...: errno: detail".
      expect(errorOf(r), what).toMatch(/^(config\.json: )?[\w.[\]()"-]+[ :]/);
    }
    expect(existsSync(path.join(b.root, id)), what).toBe(false);
    expect(leftoverCgroups(id), what).toEqual([]);
    expect(leftoverMounts(b.dir), what).toEqual([]);
    expect(processesWith(id), what).toEqual([]);
  }
  console.log(`create fuzz: ${JSON.stringify(outcomes)}`);
});

// config.json fuzzing against everything create judges before it touches the host: the
// parser and validator, the plan builder and the cgroup, device and seccomp judges. Every
// generated config either builds a plan or is refused with one of our typed errors naming the
// field; never a TypeError or any other crash. Fixed seed here; `npm run fuzz` runs more
// (FUZZ_RUNS) and may pick its seed (FUZZ_SEED).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CgroupLayout } from '../../../src/cgroups/detect.js';
import { cgroupPaths } from '../../../src/cgroups/paths.js';
import { TsrunError } from '../../../src/errors.js';
import { parseConfig } from '../../../src/oci/validate.js';
import { deviceRules, resourcesOf } from '../../../src/runtime/cgroup-config.js';
import { buildPlan, refuseUnbuilt } from '../../../src/runtime/plan/index.js';
import { seccompListener } from '../../../src/runtime/plan/seccomp.js';
import { configArb } from '../../helpers/config-arb.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_0011);

const hybrid: CgroupLayout = {
  mode: 'hybrid',
  v1: [
    { controllers: ['cpu', 'cpuacct'], mountpoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/' },
    { controllers: ['memory'], mountpoint: '/sys/fs/cgroup/memory', root: '/' },
    { controllers: ['pids'], mountpoint: '/sys/fs/cgroup/pids', root: '/' },
    { controllers: ['devices'], mountpoint: '/sys/fs/cgroup/devices', root: '/' },
  ],
  unified: { mountpoint: '/sys/fs/cgroup/unified', root: '/' },
};

/** What create does with a config before it claims anything; returns the outcome's kind. */
function judge(text: string): 'plan' | 'refused' {
  const parsed = parseConfig(text);
  if (!parsed.ok) {
    expect(parsed.issues.length).toBeGreaterThan(0);
    for (const i of parsed.issues) expect(i.field).toMatch(/^[\w.[\]()-]+|^\(config\)$/);
    return 'refused';
  }
  const config = parsed.config;
  if (!config.process) return 'refused';
  refuseUnbuilt(config);
  const paths = cgroupPaths(config.linux?.cgroupsPath, 'fuzz', hybrid, () => new Map());
  buildPlan({ id: 'fuzz', bundle: '/b', config, rootfs: '/b/rootfs', cgroupPaths: paths, layout: hybrid, noPivot: false, noNewKeyring: false });
  resourcesOf(config.linux?.resources);
  deviceRules(config);
  seccompListener(config);
  return 'plan';
}

/** A typed error, and its message says which field: `field: what is wrong`. */
function expectTypedNamingField(err: unknown, text: string): void {
  if (!(err instanceof TsrunError)) throw new Error(`crash (${(err as Error)?.name}): ${(err as Error)?.stack}\nconfig: ${text.slice(0, 2000)}`);
  const named = err.field !== undefined || /^[\w.[\]-]+(\.\w+)*: /.test(err.message);
  expect(named, `${err.kind}: ${err.message}`).toBe(true);
}

describe('config.json fuzzing (in-process)', () => {
  it(`${RUNS} generated configs build a plan or are refused with a typed error naming the field`, { timeout: 120_000 }, () => {
    const outcomes = { plan: 0, refused: 0, thrown: 0 };
    fc.assert(
      fc.property(configArb(), (c) => {
        const text = JSON.stringify(c);
        try {
          outcomes[judge(text)]++;
        } catch (err) {
          outcomes.thrown++;
          expectTypedNamingField(err, text);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`config fuzz: ${JSON.stringify(outcomes)}`);
    // The generator reaches the deep judges, not only the schema.
    expect(outcomes.plan).toBeGreaterThan(RUNS / 20);
    expect(outcomes.thrown).toBeGreaterThan(0);
  });
});

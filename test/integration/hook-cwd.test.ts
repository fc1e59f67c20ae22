// Each hook phase's working directory, side by side with runc 1.1.5, with the caller
// somewhere else than the bundle: runc's create and run work from the bundle (prestart,
// createRuntime, poststart), createContainer hooks from the container's rootfs (a hook that
// does `touch ./etc/x` writes into it), startContainer hooks from process.cwd inside the
// container, and poststop hooks from wherever `delete` was called.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { runc, tsrun, type Result, type RunOptions } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';

const bundles: TestBundle[] = [];
const callerDir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-hookcwd-caller-'));
afterAll(() => {
  bundles.forEach((b) => b.remove());
  rmSync(callerDir, { recursive: true, force: true });
});

const PHASES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

/** Where each phase ran, as the bundle, the rootfs, the caller's directory or a path. */
async function cwds(cli: (args: string[], o?: RunOptions) => Promise<Result>, b: TestBundle, out: string): Promise<Record<string, string>> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const opts = { cwd: callerDir };
  expect((await cli(['create', '--bundle', b.dir, b.id], opts)).code).toBe(0);
  expect((await cli(['start', b.id], opts)).code).toBe(0);
  expect((await cli(['delete', '--force', b.id], opts)).code).toBe(0);
  const seen: Record<string, string> = {};
  for (const phase of PHASES) {
    let dir: string;
    try {
      dir = readFileSync(path.join(out, phase), 'utf8').trim();
    } catch {
      dir = '(did not run)';
    }
    seen[phase] = dir === b.dir ? '<bundle>' : dir === b.rootfs ? '<rootfs>' : dir === callerDir ? '<caller>' : dir;
  }
  return seen;
}

describe('hooks run where runc 1.1.5 runs them', () => {
  it('every phase, called from outside the bundle', async () => {
    const b = new TestBundle('hookcwd', ['/bin/sleep', '1000']);
    bundles.push(b);
    const out = path.join(b.dir, 'out');
    b.edit((c) => {
      c.process.cwd = '/tmp';
      // the same directory inside the container, for the startContainer hook
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      const hook = (phase: string, dir: string) => ({ path: '/bin/sh', args: ['sh', '-c', `pwd > ${dir}/${phase}`] });
      c.hooks = Object.fromEntries(PHASES.map((p) => [p, [hook(p, p === 'startContainer' ? '/out' : out)]]));
    });
    const viaRunc = await cwds((args, o) => runc(path.join(b.dir, 'runc-state'), args, o), b, out);
    const viaTsrun = await cwds((args, o) => tsrun(b.root, args, o), b, out);
    expect(viaTsrun).toEqual(viaRunc);
    expect(viaTsrun).toEqual({
      prestart: '<bundle>',
      createRuntime: '<bundle>',
      createContainer: '<rootfs>',
      startContainer: '/tmp',
      poststart: '<bundle>',
      poststop: '<caller>',
    });
    expect(leftoverCgroups(b.id)).toEqual([]);
    expect(leftoverMounts(b.dir)).toEqual([]);
  });

  it('a createContainer hook that writes relative to the rootfs', async () => {
    const b = new TestBundle('hookrel', ['/bin/sleep', '1000']);
    bundles.push(b);
    b.edit((c) => (c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'touch ./etc/hook-was-here'] }] }));
    const results: Array<[number, boolean]> = [];
    for (const cli of [(args: string[]) => runc(path.join(b.dir, 'runc-state'), args, { cwd: callerDir }), (args: string[]) => tsrun(b.root, args, { cwd: callerDir })]) {
      rmSync(path.join(b.rootfs, 'etc', 'hook-was-here'), { force: true });
      const r = await cli(['create', '--bundle', b.dir, b.id]);
      let made = false;
      try {
        made = readFileSync(path.join(b.rootfs, 'etc', 'hook-was-here'), 'utf8') === '';
      } catch {
        // not made
      }
      results.push([r.code, made]);
      await cli(['delete', '--force', b.id]);
    }
    expect(results).toEqual([[0, true], [0, true]]);
  });
});

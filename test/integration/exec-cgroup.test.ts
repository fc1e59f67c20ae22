// exec --cgroup, side by side with runc 1.1.5: the process goes into an existing sub-cgroup
// of the container's, in every hierarchy or in the named ones; runc's errors for a path that
// is not a sub-cgroup, a controller the container has no cgroup of, a malformed argument
// and a sub-cgroup that does not exist. One difference on purpose: runc's string-prefix
// check lets "../<name>-sibling" reach a sibling cgroup, tsrun refuses it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, tsrun, type Result } from '../helpers/cli.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { TEST_CGROUP_PARENT } from '../helpers/paths.js';

const ROOT = '/sys/fs/cgroup';
const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

const hierarchies = (): string[] => readdirSync(ROOT);

/** Makes `name` under the container's cgroup in the given hierarchies (cpuset: usable). */
function makeSub(id: string, name: string, only?: string[]): void {
  for (const h of only ?? hierarchies()) {
    const dir = path.join(ROOT, h, TEST_CGROUP_PARENT, id, name);
    mkdirSync(dir, { recursive: true });
    if (h === 'cpuset') {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(path.join(dir, f), readFileSync(path.join(dir, '..', f)));
    }
  }
}

function removeDirs(id: string, names: string[]): void {
  for (const h of hierarchies()) {
    for (const name of names) {
      const dir = path.join(ROOT, h, TEST_CGROUP_PARENT, name === '' ? id : path.join(id, name));
      if (existsSync(dir)) rmdirSync(dir);
    }
  }
}

interface Outcome {
  code: number;
  /** /proc/self/cgroup relative to the container's cgroup, or the error */
  view: string;
}

describe('exec --cgroup, as runc 1.1.5 takes it', () => {
  it('sub-cgroups for all hierarchies or named ones, and runc\'s errors', async () => {
    const b = new TestBundle('execcg', ['/bin/sleep', '1000']);
    bundles.push(b);
    const base = `/${TEST_CGROUP_PARENT}/${b.id}`;
    const sibling = `${b.id}-sib`;
    const cases: Array<[string, string[]]> = [
      ['all', ['--cgroup', 'sub']],
      ['cpu only', ['--cgroup', 'cpu:onlycpu']],
      ['two, each its own', ['--cgroup', 'cpu:onlycpu', '--cgroup', 'memory,pids:sub']],
      ['the top, explicitly', ['--cgroup', '/']],
      ['a path for all, not alone', ['--cgroup', 'cpu:onlycpu', '--cgroup', 'sub']],
      ['the parent', ['--cgroup', '..']],
      ['no such sub-cgroup', ['--cgroup', 'cpu:nonexistent']],
      ['no such controller', ['--cgroup', 'whaaat:/']],
      ['malformed', ['--cgroup', 'a:b:c']],
    ];
    const results: Record<string, Outcome[]> = {};
    for (const [name, cli] of [
      ['runc', (args: string[]) => runc(path.join(b.dir, 'runc-state'), args)],
      ['tsrun', (args: string[]) => tsrun(b.root, args)],
    ] as const) {
      expect((await cli(['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
      makeSub(b.id, 'sub');
      makeSub(b.id, 'onlycpu', ['cpu']);
      const outcomes: Outcome[] = [];
      try {
        for (const [, args] of cases) {
          const r: Result = await cli(['exec', ...args, b.id, 'cat', '/proc/self/cgroup']);
          const view = r.code === 0 ? r.stdout.trim().split('\n').map((l) => l.replace(base, '<c>')).join(' ') : errorOf(r);
          outcomes.push({ code: r.code, view });
        }
      } finally {
        await cli(['delete', '--force', b.id]);
        removeDirs(b.id, ['sub', 'onlycpu', '']);
      }
      results[name] = outcomes;
    }
    const [viaRunc, viaTsrun] = [results.runc ?? [], results.tsrun ?? []];
    cases.forEach(([what], i) => {
      const r = viaRunc[i] as Outcome;
      const t = viaTsrun[i] as Outcome;
      expect(t.code, what).toBe(r.code);
      if (r.code === 0) expect(t.view, what).toBe(r.view);
    });
    const view = (i: number): string => (viaTsrun[i] as Outcome).view;
    expect(view(0)).toMatch(/^(\d+:[^:]*:<c>\/sub ?)+$/);
    expect(view(1)).toContain(':cpu:<c>/onlycpu');
    expect(view(1)).toContain(':memory:<c> ');
    expect(view(2)).toContain(':memory:<c>/sub');
    expect(view(3)).not.toContain('<c>/');
    for (const v of [(viaRunc[4] as Outcome).view, view(4)]) expect(v).toContain('invalid --cgroup argument: sub (missing <controller>: prefix)');
    expect(view(5)).toContain('.. is not a sub cgroup path');
    expect((viaRunc[5] as Outcome).view).toContain('.. is not a sub cgroup path');
    for (const [i, words] of [[6, ['error adding pid', 'no such file or directory']], [7, ['unknown controller whaaat in SubCgroupPaths']], [8, ['invalid --cgroup argument: a:b:c']]] as const) {
      for (const w of words) {
        expect((viaRunc[i] as Outcome).view).toContain(w);
        expect(view(i)).toContain(w);
      }
    }
    // the sibling whose name the container's cgroup is a prefix of
    const sib = path.join(ROOT, 'cpu', TEST_CGROUP_PARENT, sibling);
    mkdirSync(sib, { recursive: true });
    try {
      const seen: Outcome[] = [];
      for (const cli of [(args: string[]) => runc(path.join(b.dir, 'runc-state'), args), (args: string[]) => tsrun(b.root, args)]) {
        expect((await cli(['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
        try {
          const r = await cli(['exec', '--cgroup', `cpu:../${sibling}`, b.id, 'cat', '/proc/self/cgroup']);
          seen.push({ code: r.code, view: r.code === 0 ? (r.stdout.split('\n').find((l) => l.includes(':cpu:')) ?? '') : errorOf(r) });
        } finally {
          await cli(['delete', '--force', b.id]);
        }
      }
      expect(seen[0]?.view).toMatch(new RegExp(`:cpu:/${TEST_CGROUP_PARENT}/${sibling}$`));
      expect(seen[1]?.code).toBe(255);
      expect(seen[1]?.view).toContain(`../${sibling} is not a sub cgroup path`);
    } finally {
      rmdirSync(sib);
    }
    expect(leftoverCgroups(b.id)).toEqual([]);
  });
});

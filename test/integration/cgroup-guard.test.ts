// The container's cgroup as create finds it, side by side with runc 1.1.5: already frozen
// (refused, nothing made), frozen while create waits on tsrun-init (refused instead of
// hanging), not empty (two warnings, then the container runs and is deleted), and `start`
// of a created container that was paused.
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, tsrun, type Result, type RunOptions } from '../helpers/cli.js';
import { leftoverCgroups, processesWith } from '../helpers/leaks.js';
import { TEST_CGROUP_PARENT } from '../helpers/paths.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const bundles: TestBundle[] = [];
const madeDirs: string[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));
afterEach(() => {
  // deepest first; thawed so that nothing made here stays frozen
  for (const dir of madeDirs.splice(0).reverse()) {
    if (existsSync(path.join(dir, 'freezer.state'))) writeFileSync(path.join(dir, 'freezer.state'), 'THAWED');
    if (existsSync(dir)) rmdirSync(dir);
  }
});

type Cli = (args: string[], o?: RunOptions) => Promise<Result>;
const clis = (b: TestBundle): Array<[string, Cli]> => [
  ['runc', (args, o) => runc(path.join(b.dir, 'runc-state'), args, o)],
  ['tsrun', (args, o) => tsrun(b.root, args, o)],
];

function bundle(name: string, cgroup?: string): TestBundle {
  const b = new TestBundle(name, ['/bin/sleep', '1000']);
  bundles.push(b);
  if (cgroup) b.edit((c) => (c.linux.cgroupsPath = `/${TEST_CGROUP_PARENT}/${cgroup}`));
  return b;
}

/** The container's freezer cgroup, made (and frozen) before the container. */
function frozenCgroup(rel: string): string {
  const dir = path.join(CGROUP_ROOT, 'freezer', TEST_CGROUP_PARENT, rel);
  let at = path.join(CGROUP_ROOT, 'freezer', TEST_CGROUP_PARENT);
  mkdirSync(at, { recursive: true });
  for (const part of rel.split('/')) {
    at = path.join(at, part);
    if (!existsSync(at)) {
      mkdirSync(at);
      madeDirs.push(at);
    }
  }
  writeFileSync(path.join(dir, 'freezer.state'), 'FROZEN');
  return dir;
}

describe("the container's cgroup as create finds it, as runc 1.1.5 judges it", () => {
  it('already frozen: create refused with runc\'s words, nothing made, nothing left', async () => {
    const b = bundle('frozen');
    const dir = frozenCgroup(b.id);
    const results: Record<string, { code: number; error: string; list: string; cgroups: string[] }> = {};
    for (const [name, cli] of clis(b)) {
      const r = await cli(['run', '-d', '--bundle', b.dir, b.id], { timeoutMs: 20_000 });
      results[name] = { code: r.code, error: errorOf(r), list: (await cli(['list', '-q'])).stdout, cgroups: leftoverCgroups(b.id) };
    }
    expect(results.runc?.error).toBe("runc run failed: container's cgroup unexpectedly frozen");
    expect(results.tsrun?.error).toBe(`container's cgroup unexpectedly frozen: ${dir}/freezer.state is FROZEN`);
    for (const r of Object.values(results)) {
      expect(r.code).toBe(1);
      expect(r.list).toBe('');
      // only the freezer cgroup the test made
      expect(r.cgroups).toEqual([path.join(CGROUP_ROOT, 'freezer', TEST_CGROUP_PARENT, b.id)]);
    }
    expect(processesWith(b.id)).toEqual([]);
  });

  it('under a frozen parent: refused (runc 1.1.5 hangs here)', async () => {
    const b = bundle('frozen-parent');
    const parent = frozenCgroup(`${b.id}-parent`);
    b.edit((c) => (c.linux.cgroupsPath = `/${TEST_CGROUP_PARENT}/${b.id}-parent/${b.id}`));
    const r = await tsrun(b.root, ['run', '-d', '--bundle', b.dir, b.id], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(errorOf(r)).toBe(`container's cgroup unexpectedly frozen: ${parent}/freezer.state is FROZEN`);
    expect((await tsrun(b.root, ['list', '-q'])).stdout).toBe('');
    expect(leftoverCgroups(`${b.id}-parent/${b.id}`)).toEqual([]);
  });

  it('frozen while create waits on tsrun-init: refused instead of hanging, nothing left (runc 1.1.5 hangs)', async () => {
    const b = bundle('frozen-during');
    const freezer = path.join(CGROUP_ROOT, 'freezer', TEST_CGROUP_PARENT, b.id, 'freezer.state');
    // createRuntime hooks run in the runtime while tsrun-init waits for them, in its cgroup
    b.edit((c) => (c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo FROZEN > ${freezer}`] }] }));
    const r = await tsrun(b.root, ['run', '-d', '--bundle', b.dir, b.id], { timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(errorOf(r)).toBe(`container's cgroup unexpectedly frozen: ${freezer} is FROZEN`);
    expect((await tsrun(b.root, ['list', '-q'])).stdout).toBe('');
    expect(leftoverCgroups(b.id)).toEqual([]);
    expect(processesWith(b.id)).toEqual([]);
  });

  it('not empty: both warnings on create, the container runs, delete goes through', async () => {
    const b = bundle('not-empty');
    const holder: ChildProcess = spawn('/bin/sleep', ['1000'], { stdio: 'ignore' });
    try {
      // (not cpuset: a new one has no cpus, and both runtimes fill it in)
      for (const h of readdirSync(CGROUP_ROOT).filter((h) => h !== 'cpuset')) {
        const dir = path.join(CGROUP_ROOT, h, TEST_CGROUP_PARENT, b.id);
        mkdirSync(path.dirname(dir), { recursive: true });
        mkdirSync(dir);
        madeDirs.push(dir);
        writeFileSync(path.join(dir, 'cgroup.procs'), String(holder.pid));
      }
      const warnings: Record<string, string[]> = {};
      for (const [name, cli] of clis(b)) {
        const r = await cli(['run', '-d', '--bundle', b.dir, b.id]);
        expect(r.code).toBe(0);
        warnings[name] = r.stderr.split('\n').filter(Boolean).map((l) => /msg="((?:[^"\\]|\\.)*)"/.exec(l)?.[1] ?? l);
        expect((await cli(['state', b.id])).stdout).toContain('"status": "running"');
        const del = await cli(['delete', '--force', b.id]);
        expect(del.code).toBe(0);
        expect((await cli(['list', '-q'])).stdout).toBe('');
      }
      expect(warnings.tsrun).toEqual(warnings.runc);
      expect(warnings.tsrun).toEqual([
        "container's cgroup is not empty: 1 process(es) found",
        "DEPRECATED: running container in a non-empty cgroup won't be supported in runc 1.2; https://github.com/opencontainers/runc/issues/3132",
      ]);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
  });

  it('start of a created container that was paused: refused with runc\'s words', async () => {
    const b = bundle('paused-start');
    const errors: string[] = [];
    for (const [, cli] of clis(b)) {
      expect((await cli(['create', '--bundle', b.dir, b.id])).code).toBe(0);
      try {
        expect((await cli(['pause', b.id])).code).toBe(0);
        const r = await cli(['start', b.id], { timeoutMs: 20_000 });
        expect(r.code).toBe(1);
        errors.push(errorOf(r));
      } finally {
        await cli(['delete', '--force', b.id]);
      }
    }
    expect(errors).toEqual(['cannot start a container in the paused state', 'cannot start a container in the paused state']);
    expect(leftoverCgroups(b.id)).toEqual([]);
  });
});

// Rootless: tsrun run by an unprivileged user (a user of the test's own, with a subordinate
// range), side by side with runc 1.1.5 run by the same user on the same bundle.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestBundle } from '../helpers/bundle.js';
import { errorOf, type Result } from '../helpers/cli.js';
import { prepareCpuset } from '../../src/cgroups/v1/cpuset.js';
import { makeRootless } from '../../spec-conformance/lib/rootless.js';
import { TEST_CGROUP_PARENT } from '../helpers/paths.js';
import { RUNTIMES } from '../helpers/runtimes.js';
import { isCliServer } from '../helpers/leaks.js';
import { processesOf, UnprivilegedUser } from '../helpers/unprivileged.js';

let user: UnprivilegedUser;
const bundles: TestBundle[] = [];
const made: Array<{ runtime: 'tsrun' | 'runc'; id: string }> = [];

beforeAll(() => {
  user = UnprivilegedUser.create();
});

afterAll(() => {
  user.remove();
});

afterEach(async () => {
  for (const { runtime, id } of made.splice(0)) {
    await (runtime === 'tsrun' ? user.tsrun(['delete', '--force', id]) : user.runc(['delete', '--force', id]));
  }
  for (const b of bundles.splice(0)) b.remove();
});

function bundle(name: string, args: string[]): TestBundle {
  const b = user.bundle(name, args);
  bundles.push(b);
  return b;
}

function cli(runtime: 'tsrun' | 'runc', args: string[], opts: Parameters<UnprivilegedUser['tsrun']>[1] = {}): Promise<Result> {
  return runtime === 'tsrun' ? user.tsrun(args, opts) : user.runc(args, opts);
}

/** Runs the bundle to its end under each runtime (ids of their own); their results by runtime. */
async function runBoth(b: TestBundle, name: string): Promise<Record<'tsrun' | 'runc', Result>> {
  const out = {} as Record<'tsrun' | 'runc', Result>;
  for (const { name: rt } of RUNTIMES) {
    const id = `${b.id}-${name}-${rt}`;
    made.push({ runtime: rt, id });
    out[rt] = await cli(rt, ['run', '--bundle', b.dir, id]);
  }
  return out;
}

/** A subordinate-range mapping: the user's own id as 0, its range from 1 up (the suite's). */
function withSubordinateRange(b: TestBundle): void {
  b.edit((c) => {
    delete c.linux.uidMappings;
    delete c.linux.gidMappings;
    makeRootless(c, user);
  });
}

describe('rootless: an unprivileged user, side by side with runc 1.1.5', () => {
  it('spec --rootless writes runc\'s rootless config; run prints uid 0 inside', async () => {
    const specs: Record<string, unknown> = {};
    for (const { name: rt } of RUNTIMES) {
      const dir = path.join(bundle(`spec-${rt}`, ['true']).dir, 'fresh');
      mkdirSync(dir);
      user.own(dir);
      const r = await cli(rt, ['spec', '--rootless'], { cwd: dir });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      // The two fields tsrun's spec writes differently whoever runs it.
      const { hostname: _h, ociVersion: _v, ...spec } = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      specs[rt] = spec;
    }
    expect(specs.tsrun).toEqual(specs.runc);

    const b = bundle('uid0', ['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; grep Groups /proc/self/status']);
    const r = await runBoth(b, 'run');
    expect(r.tsrun).toMatchObject({ code: 0, stderr: '' });
    expect(r.tsrun.stdout).toContain('uid=0(root) gid=0(root)');
    expect(r.tsrun.stdout).toMatch(new RegExp(`^\\s+0\\s+${user.uid}\\s+1$`, 'm'));
    expect(r.tsrun.stdout).toContain('deny');
    expect(r.tsrun).toEqual(r.runc);
    // State went under $XDG_RUNTIME_DIR, made 0700 and sticky as runc makes its own.
    for (const dir of ['tsrun', 'runc']) {
      const s = statSync(path.join(user.runtimeDir, dir));
      expect({ dir, uid: s.uid, mode: (s.mode & 0o7777).toString(8) }).toEqual({ dir, uid: user.uid, mode: '1700' });
    }
  });

  it('a config using the subordinate range: a file chowned to 1000 inside is owned by range start + 999 on the host', async () => {
    const b = bundle('subid', ['sh', '-c', 'touch /owned-by-1000 && chown 1000:1000 /owned-by-1000 && cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups && id']);
    withSubordinateRange(b);
    b.edit((c) => {
      c.root.readonly = false;
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_CHOWN');
    });
    const file = path.join(b.rootfs, 'owned-by-1000');
    const owners: Record<string, unknown> = {};
    const results: Record<string, Result> = {};
    for (const { name: rt } of RUNTIMES) {
      const id = `${b.id}-${rt}`;
      made.push({ runtime: rt, id });
      rmSync(file, { force: true });
      results[rt] = await cli(rt, ['run', '--bundle', b.dir, id]);
      owners[rt] = UnprivilegedUser.ownerOf(file);
    }
    expect(results.tsrun).toMatchObject({ code: 0, stderr: '' });
    expect(results.tsrun?.stdout).toMatch(new RegExp(`^\\s+1\\s+${user.subuid.start}\\s+${user.subuid.count}$`, 'm'));
    expect(results.tsrun).toEqual(results.runc);
    expect(owners.tsrun).toEqual({ uid: user.subuid.start + 999, gid: user.subgid.start + 999 });
    expect(owners.tsrun).toEqual(owners.runc);
  });

  it('exec, state, kill and delete, with state under $XDG_RUNTIME_DIR', async () => {
    const b = bundle('verbs', ['sleep', '1000']);
    const seen: Record<string, unknown[]> = {};
    for (const { name: rt } of RUNTIMES) {
      const id = `${b.id}-${rt}`;
      made.push({ runtime: rt, id });
      const steps: unknown[] = [];
      steps.push((await cli(rt, ['run', '-d', '--bundle', b.dir, id])).code);
      const stateFile = path.join(user.runtimeDir, rt, id, 'state.json');
      steps.push(existsSync(stateFile));
      const s = JSON.parse((await cli(rt, ['state', id])).stdout) as { status: string; pid: number; owner: string };
      steps.push(s.status, s.owner);
      const ex = await cli(rt, ['exec', id, 'sh', '-c', 'id; cat /proc/self/uid_map; echo $HOME']);
      steps.push({ code: ex.code, stdout: ex.stdout, stderr: ex.stderr });
      const bad = await cli(rt, ['exec', '--user', '1000', id, 'true']);
      steps.push(bad.code);
      steps.push((await cli(rt, ['kill', id, 'KILL'])).code);
      for (let i = 0; i < 100 && JSON.parse((await cli(rt, ['state', id])).stdout).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
      steps.push(JSON.parse((await cli(rt, ['state', id])).stdout).status);
      steps.push((await cli(rt, ['delete', id])).code);
      steps.push(existsSync(path.dirname(stateFile)));
      steps.push(processesOf(user.uid).includes(s.pid));
      seen[rt] = steps;
    }
    expect(seen.tsrun).toEqual([
      0,
      true,
      'running',
      '',
      { code: 0, stdout: `uid=0(root) gid=0(root) groups=0(root)\n         0       ${user.uid}          1\n/root\n`, stderr: '' },
      255,
      0,
      'stopped',
      0,
      false,
      false,
    ]);
    expect(seen.tsrun).toEqual(seen.runc);
  });
});

describe('rootless: errors name their cause and leave nothing behind', () => {
  /** Both runtimes fail the same way (exit 1); tsrun's message says why; nothing is left. */
  async function failsCleanly(b: TestBundle, why: RegExp, opts: Parameters<UnprivilegedUser['tsrun']>[1] = {}, who = user): Promise<string> {
    const codes: Record<string, number> = {};
    let message = '';
    for (const { name: rt } of RUNTIMES) {
      const id = `${b.id}-${rt}`;
      if (who === user) made.push({ runtime: rt, id });
      const args = ['run', '--bundle', b.dir, id];
      const r = await (rt === 'tsrun' ? who.tsrun(args, opts) : who.runc(args, opts));
      codes[rt] = r.code;
      expect(existsSync(path.join(who.runtimeDir, rt, id))).toBe(false);
      // (runc 1.1.5 may leave its stage-1 child a zombie for a moment: only ours is checked)
      if (rt === 'tsrun') {
        message = errorOf(r);
        expect(processesOf(who.uid).filter((pid) => !isCliServer(pid))).toEqual([]);
      }
    }
    expect(codes).toEqual({ tsrun: 1, runc: 1 });
    expect(message).toMatch(why);
    return message;
  }

  it('XDG_RUNTIME_DIR unset, or not the caller\'s', async () => {
    for (const [env, why] of [
      [{ XDG_RUNTIME_DIR: undefined }, /^XDG_RUNTIME_DIR is not set: an unprivileged caller \(euid \d+\) keeps container state in \$XDG_RUNTIME_DIR\/tsrun/],
      [{ XDG_RUNTIME_DIR: '/run' }, /^XDG_RUNTIME_DIR \/run is not the caller's \(owned by uid 0, the caller is uid \d+\)/],
    ] as const) {
      const t = await user.tsrun(['list'], { extraEnv: env });
      const r = await user.runc(['list'], { extraEnv: env });
      expect({ tsrun: t.code, runc: r.code }).toEqual({ tsrun: 1, runc: 1 });
      expect(errorOf(t)).toMatch(why);
    }
    // --root is the way out of both.
    const t = await user.tsrun(['--root', path.join(user.home, 'state'), 'list'], { extraEnv: { XDG_RUNTIME_DIR: undefined } });
    expect(t).toMatchObject({ code: 0, stderr: '' });
  });

  it('a subordinate range without newuidmap in PATH', async () => {
    const b = bundle('nomap', ['true']);
    withSubordinateRange(b);
    await failsCleanly(b, /^linux\.uidMappings: .*newuidmap is not in PATH \(Debian package uidmap\)$/, { extraEnv: { PATH: '/nonexistent' } });
  });

  it('a range that is not the caller\'s', async () => {
    const b = bundle('foreign', ['true']);
    b.edit((c) => {
      c.linux.uidMappings = [
        { containerID: 0, hostID: user.uid, size: 1 },
        { containerID: 1, hostID: user.subuid.start + user.subuid.count, size: 1000 },
      ];
    });
    const range = `${user.subuid.start}-${user.subuid.start + user.subuid.count - 1}`;
    await failsCleanly(b, new RegExp(`^linux\\.uidMappings: newuidmap \\d+ 0 ${user.uid} 1 1 \\d+ 1000: .*not allowed.* \\(the subordinate uids of ${user.name} in /etc/subuid: ${range}\\)$`));
  });

  it('a caller without subordinate ranges', async () => {
    const other = UnprivilegedUser.create();
    try {
      execFileSync('usermod', [
        '--del-subuids',
        `${other.subuid.start}-${other.subuid.start + other.subuid.count - 1}`,
        '--del-subgids',
        `${other.subgid.start}-${other.subgid.start + other.subgid.count - 1}`,
        other.name,
      ]);
      const b = other.bundle('nosub', ['true']);
      bundles.push(b);
      b.edit((c) => {
        c.linux.uidMappings = [
          { containerID: 0, hostID: other.uid, size: 1 },
          { containerID: 1, hostID: other.subuid.start, size: 10 },
        ];
      });
      await failsCleanly(b, new RegExp(`^linux\\.uidMappings: newuidmap .*\\(${other.name} has no subordinate uids in /etc/subuid\\)$`), {}, other);
    } finally {
      other.remove();
    }
  });

  it('a rootless config without a user namespace', async () => {
    const b = bundle('nouserns', ['true']);
    b.edit((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'user');
    });
    await failsCleanly(b, /^linux\.namespaces: rootless container requires user namespaces/);
  });
});

describe('rootless: cgroups, as runc\'s rootless cgroup manager uses them', () => {
  const hierarchies = readdirSync('/sys/fs/cgroup').filter((h) => existsSync(path.join('/sys/fs/cgroup', h, 'cgroup.procs')));

  it('without permission and without cgroupsPath: the container goes without; limits and the verbs that need a cgroup are refused', async () => {
    const b = bundle('nocg', ['sh', '-c', 'cat /proc/self/cgroup; ls /sys/fs/cgroup']);
    const r = await runBoth(b, 'run');
    expect(r.tsrun).toMatchObject({ code: 0, stderr: '' });
    expect(r.tsrun).toEqual(r.runc);

    const limited = bundle('nocg-limit', ['true']);
    limited.edit((c) => (c.linux.resources = { memory: { limit: 64 * 1024 * 1024 } }));
    const codes: Record<string, number> = {};
    const messages: Record<string, string> = {};
    for (const { name: rt } of RUNTIMES) {
      const id = `${limited.id}-${rt}`;
      made.push({ runtime: rt, id });
      const res = await cli(rt, ['run', '--bundle', limited.dir, id]);
      codes[rt] = res.code;
      messages[rt] = errorOf(res);
      expect(existsSync(path.join(user.runtimeDir, rt, id))).toBe(false);
    }
    expect(codes).toEqual({ tsrun: 1, runc: 1 });
    expect(messages.tsrun).toBe('linux.resources.memory: cannot set memory limit: container could not join or create cgroup');
    expect(messages.runc).toContain('cannot set memory limit: container could not join or create cgroup');

    const s = bundle('nocg-verbs', ['sleep', '1000']);
    const seen: Record<string, unknown[]> = {};
    for (const { name: rt } of RUNTIMES) {
      const id = `${s.id}-${rt}`;
      made.push({ runtime: rt, id });
      expect((await cli(rt, ['run', '-d', '--bundle', s.dir, id])).code).toBe(0);
      const steps: unknown[] = [];
      for (const args of [['ps', id], ['pause', id], ['update', '--memory', '100000000', id], ['events', '--stats', id]]) {
        steps.push([args[0], (await cli(rt, args)).code]);
      }
      const pause = await cli(rt, ['pause', id]);
      steps.push(errorOf(pause));
      seen[rt] = steps;
      // kill --all: runc 1.1.5 fails ("lstat : no such file or directory"); tsrun signals the
      // init, whose pid namespace takes the rest (what runc 1.2 does).
      const killAll = await cli(rt, ['kill', '--all', id, 'KILL']);
      expect(killAll.code).toBe(rt === 'tsrun' ? 0 : 1);
    }
    expect(seen.tsrun).toEqual([['ps', 1], ['pause', 1], ['update', 1], ['events', 0], 'cannot toggle freezer: cgroups not configured for container']);
    expect(seen.tsrun).toEqual(seen.runc);
  });

  it('in a delegated subtree: limits, pause, resume, ps, update and kill --all work, and delete removes it', async () => {
    const parent = `/${TEST_CGROUP_PARENT}/${user.name}`;
    for (const h of hierarchies) {
      const dir = path.join('/sys/fs/cgroup', h, parent);
      mkdirSync(dir, { recursive: true });
      // What an administrator delegating a v1 cpuset does: cpus and mems to hand out.
      if (h === 'cpuset') prepareCpuset(dir);
      chownSync(dir, user.uid, user.gid);
    }
    try {
      const b = bundle('deleg', ['sleep', '1000']);
      const seen: Record<string, unknown[]> = {};
      for (const { name: rt } of RUNTIMES) {
        const id = `${b.id}-${rt}`;
        made.push({ runtime: rt, id });
        b.edit((c) => {
          c.linux.cgroupsPath = `${parent}/${id}`;
          c.linux.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 } };
        });
        const steps: unknown[] = [];
        const memory = path.join('/sys/fs/cgroup/memory', parent, id);
        steps.push((await cli(rt, ['run', '-d', '--bundle', b.dir, id])).code);
        steps.push(readFileSync(path.join(memory, 'memory.limit_in_bytes'), 'utf8').trim());
        const pid = (JSON.parse((await cli(rt, ['state', id])).stdout) as { pid: number }).pid;
        const ps = await cli(rt, ['ps', '--format', 'json', id]);
        steps.push(JSON.parse(ps.stdout));
        steps.push((await cli(rt, ['pause', id])).code);
        steps.push(JSON.parse((await cli(rt, ['state', id])).stdout).status);
        steps.push((await cli(rt, ['resume', id])).code);
        steps.push(JSON.parse((await cli(rt, ['state', id])).stdout).status);
        steps.push((await cli(rt, ['update', '--memory', String(128 * 1024 * 1024), id])).code);
        steps.push(readFileSync(path.join(memory, 'memory.limit_in_bytes'), 'utf8').trim());
        steps.push((await cli(rt, ['kill', '--all', id, 'KILL'])).code);
        for (let i = 0; i < 100 && JSON.parse((await cli(rt, ['state', id])).stdout).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
        steps.push((await cli(rt, ['delete', id])).code);
        steps.push(hierarchies.filter((h) => existsSync(path.join('/sys/fs/cgroup', h, parent, id))));
        seen[rt] = steps.map((x) => (Array.isArray(x) && x.length === 1 && x[0] === pid ? ['init'] : x));
      }
      expect(seen.tsrun).toEqual([0, String(64 * 1024 * 1024), ['init'], 0, 'paused', 0, 'running', 0, String(128 * 1024 * 1024), 0, 0, []]);
      expect(seen.tsrun).toEqual(seen.runc);
    } finally {
      for (const h of hierarchies) {
        try {
          rmdirSync(path.join('/sys/fs/cgroup', h, parent));
        } catch {
          // not there, or a leak the assertions above report
        }
      }
    }
  });
});

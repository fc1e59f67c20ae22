// The container lifecycle through the CLI: create, start, state, kill, delete, run, list,
// and that nothing (state, mount, cgroup, process) outlives a deleted container.
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, tsrun } from '../helpers/cli.js';
import { isAlive, leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';

const bundles: TestBundle[] = [];
function bundle(name: string, args?: string[]): TestBundle {
  const b = new TestBundle(name, args);
  bundles.push(b);
  return b;
}

afterEach(async () => {
  for (const b of bundles.splice(0)) {
    await tsrun(b.root, ['delete', '--force', b.id]);
    b.remove();
  }
});

async function state(b: TestBundle): Promise<{ status: string; pid: number; [k: string]: unknown }> {
  const r = await tsrun(b.root, ['state', b.id]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { status: string; pid: number };
}

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectGone(b: TestBundle, pid: number): void {
  expect(existsSync(path.join(b.root, b.id))).toBe(false);
  expect(leftoverCgroups(b.id)).toEqual([]);
  expect(leftoverMounts(b.dir)).toEqual([]);
  expect(isAlive(pid)).toBe(false);
}

describe('lifecycle', () => {
  it("state and list show runc's fields: state's owner empty, list's the user's name, created to the nanosecond", async () => {
    const b = bundle('fields', ['sleep', '1000']);
    const shapes: Record<string, unknown> = {};
    for (const [name, cli] of [['tsrun', tsrun], ['runc', runc]] as const) {
      const id = `${b.id}-${name}`;
      const root = `${b.root}-${name}`;
      try {
        expect((await cli(root, ['create', '--bundle', b.dir, id])).code).toBe(0);
        const s = JSON.parse((await cli(root, ['state', id])).stdout) as Record<string, unknown>;
        const [l] = JSON.parse((await cli(root, ['list', '--format', 'json'])).stdout) as Array<Record<string, unknown>>;
        const table = (await cli(root, ['list'])).stdout.trim().split('\n').map((line) => line.split(/\s+/));
        shapes[name] = {
          stateKeys: Object.keys(s),
          stateOwner: s.owner,
          listOwner: l?.owner,
          tableOwner: table[1]?.[5],
          // Go's RFC3339Nano: up to nine digits, trailing zeros dropped (so a real clock shows more than three)
          created: [s.created, l?.created].map((c) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/.test(String(c))),
          sameCreated: s.created === l?.created,
        };
      } finally {
        await cli(root, ['delete', '--force', id]);
      }
    }
    // ociVersion differs on purpose (runc echoes the bundle's, tsrun says the spec it implements).
    expect(shapes.tsrun).toEqual(shapes.runc);
    expect(shapes.tsrun).toMatchObject({ stateOwner: '', listOwner: 'root', tableOwner: 'root' });
  });

  it('create holds the init before the program; start runs it; kill stops it; delete removes all', async () => {
    const b = bundle('life', ['/bin/sh', '-c', 'echo started > /tmp/marker; exec sleep 1000']);
    b.edit((c) => (c.root.readonly = false));
    const pidFile = path.join(b.dir, 'init.pid');
    const created = await tsrun(b.root, ['create', '--bundle', b.dir, '--pid-file', pidFile, b.id]);
    expect(created).toMatchObject({ code: 0, stderr: '' });

    const s1 = await state(b);
    expect(s1).toMatchObject({ id: b.id, status: 'created', bundle: b.dir, rootfs: b.rootfs, owner: '' });
    expect(s1.pid).toBeGreaterThan(0);
    expect(readFileSync(pidFile, 'utf8')).toBe(String(s1.pid));
    // Still tsrun-init from its sealed copy, and the program has not run.
    expect(readlinkSync(`/proc/${s1.pid}/exe`)).toMatch(/^\/memfd:tsrun-init/);
    // The sealed copy cannot be written through /proc/<pid>/exe (the CVE-2019-5736 path).
    expect(() => openSync(`/proc/${s1.pid}/exe`, 'r+')).toThrow(/ETXTBSY|EPERM|EACCES/);
    expect(existsSync(path.join(b.rootfs, 'tmp/marker'))).toBe(false);

    expect(await tsrun(b.root, ['start', b.id])).toMatchObject({ code: 0, stderr: '' });
    const s2 = await state(b);
    expect(s2.status).toBe('running');
    expect(s2.pid).toBe(s1.pid);
    await until(() => existsSync(path.join(b.rootfs, 'tmp/marker')), 'the program to run');
    expect(readFileSync(`/proc/${s1.pid}/cmdline`, 'utf8')).toBe('sleep\x001000\x00');

    expect(await tsrun(b.root, ['kill', b.id, 'KILL'])).toMatchObject({ code: 0 });
    await until(async () => (await state(b)).status === 'stopped', 'stopped');
    expect((await state(b)).pid).toBe(0);

    expect(await tsrun(b.root, ['delete', b.id])).toMatchObject({ code: 0, stderr: '' });
    expectGone(b, s1.pid);
    const again = await tsrun(b.root, ['state', b.id]);
    expect(again.code).toBe(1);
    expect(errorOf(again)).toContain('does not exist');
  });

  it('run waits, passes the exit code through, and deletes the container', async () => {
    const b = bundle('run', ['/bin/sh', '-c', 'echo out; echo err >&2; exit 7']);
    const r = await tsrun(b.root, ['run', '--bundle', b.dir, b.id]);
    expect(r).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(existsSync(path.join(b.root, b.id))).toBe(false);
    expect(leftoverCgroups(b.id)).toEqual([]);
    expect(leftoverMounts(b.dir)).toEqual([]);
  });

  it('run reports a killed container as 128 + signal', async () => {
    // From outside: the init of a pid namespace cannot be killed from within by SIGKILL.
    const b = bundle('sig', ['sleep', '1000']);
    const running = tsrun(b.root, ['run', '--bundle', b.dir, b.id]);
    await until(async () => (await tsrun(b.root, ['state', b.id])).stdout.includes('"running"'), 'running');
    expect((await tsrun(b.root, ['kill', b.id, 'KILL'])).code).toBe(0);
    expect((await running).code).toBe(137);
  });

  it('run forwards signals to the container', async () => {
    const b = bundle('fwd', ['/bin/sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.05; done']);
    const running = tsrun(b.root, ['run', '--bundle', b.dir, b.id]);
    await until(async () => (await tsrun(b.root, ['state', b.id])).stdout.includes('"running"'), 'running');
    // the tsrun process itself: our direct child, bin/tsrun (it passes the signal on to the
    // server serving the call, or, run cold, is node running bin/tsrun.cjs)
    const list = (await import('node:child_process')).execFileSync('pgrep', ['-f', `run --bundle ${b.dir} ${b.id}`]).toString().trim().split('\n');
    for (const pid of list) process.kill(Number(pid), 'SIGTERM');
    expect((await running).code).toBe(42);
  });

  it('run --detach leaves a running container; delete needs --force while it runs', async () => {
    const b = bundle('detach', ['sleep', '1000']);
    expect(await tsrun(b.root, ['run', '-d', '--bundle', b.dir, b.id])).toMatchObject({ code: 0 });
    const s = await state(b);
    expect(s.status).toBe('running');
    const refused = await tsrun(b.root, ['delete', b.id]);
    expect(refused.code).toBe(1);
    expect(errorOf(refused)).toContain(`cannot delete container ${b.id} that is not stopped: running`);
    expect(await tsrun(b.root, ['delete', '--force', b.id])).toMatchObject({ code: 0 });
    expectGone(b, s.pid);
  });

  it('deletes a created container without --force, as runc does', async () => {
    const b = bundle('created', ['sleep', '1000']);
    expect((await tsrun(b.root, ['create', '--bundle', b.dir, b.id])).code).toBe(0);
    const s = await state(b);
    expect(await tsrun(b.root, ['delete', b.id])).toMatchObject({ code: 0 });
    expectGone(b, s.pid);
  });

  it('refuses to start twice and to create an id twice', async () => {
    const b = bundle('twice', ['sleep', '1000']);
    expect((await tsrun(b.root, ['create', '--bundle', b.dir, b.id])).code).toBe(0);
    const dup = await tsrun(b.root, ['create', '--bundle', b.dir, b.id]);
    expect(dup.code).toBe(1);
    expect(errorOf(dup)).toContain('already exists');
    expect((await state(b)).status).toBe('created');
    expect((await tsrun(b.root, ['start', b.id])).code).toBe(0);
    const again = await tsrun(b.root, ['start', b.id]);
    expect(again.code).toBe(1);
    expect(errorOf(again)).toContain('cannot start an already running container');
  });

  it('kill takes names and numbers, refuses a stopped container, and --all reaches every process', async () => {
    const b = bundle('kill', ['/bin/sh', '-c', 'sleep 1000 & sleep 1000 & wait']);
    expect((await tsrun(b.root, ['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
    const bad = await tsrun(b.root, ['kill', b.id, 'NOPE']);
    expect(bad.code).toBe(1);
    expect(errorOf(bad)).toContain('unknown signal "NOPE"');
    const procs = () => readFileSync(`/sys/fs/cgroup/pids/tsrun-test/${b.id}/cgroup.procs`, 'utf8').trim().split('\n');
    await until(() => procs().length === 3, 'three processes');
    expect((await tsrun(b.root, ['kill', '--all', b.id, '9'])).code).toBe(0);
    await until(async () => (await state(b)).status === 'stopped', 'stopped');
    const stopped = await tsrun(b.root, ['kill', b.id, 'SIGTERM']);
    expect(stopped.code).toBe(1);
    expect(errorOf(stopped)).toContain('container not running');
  });

  it('--preserve-fds passes exactly that many extra fds', async () => {
    const b = bundle('fds', ['/bin/sh', '-c', 'echo preserved >&3; ls /proc/self/fd | tr "\\n" " "']);
    const file = path.join(b.dir, 'fd3');
    writeFileSync(file, '');
    const fd3 = openSync(file, 'w');
    const fd4 = openSync(file, 'r');
    try {
      const r = await tsrun(b.root, ['run', '--preserve-fds', '1', '--bundle', b.dir, b.id], { extraFds: [fd3, fd4] });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      // 0-2, the preserved 3, and the fd ls itself opens; not 4
      expect(r.stdout).toBe('0 1 2 3 4 ');
      expect(readFileSync(file, 'utf8')).toBe('preserved\n');
    } finally {
      closeSync(fd3);
      closeSync(fd4);
    }
  });

  it('list shows containers as a table, as JSON and as ids', async () => {
    const b = bundle('list', ['sleep', '1000']);
    const empty = await tsrun(b.root, ['list', '--format', 'json']);
    expect(empty.stdout).toBe('null\n');
    expect((await tsrun(b.root, ['create', '--bundle', b.dir, b.id])).code).toBe(0);
    const table = await tsrun(b.root, ['list']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    expect(table.stdout).toMatch(new RegExp(`^${b.id}\\s+\\d+\\s+created\\s+${b.dir}\\s+\\S+\\s+root$`, 'm'));
    const json = JSON.parse((await tsrun(b.root, ['list', '--format', 'json'])).stdout) as Array<{ id: string; status: string }>;
    expect(json).toMatchObject([{ id: b.id, status: 'created', ociVersion: expect.any(String) }]);
    expect((await tsrun(b.root, ['list', '-q'])).stdout).toBe(`${b.id}\n`);
  });

  it('delete --force of a container that does not exist succeeds; without --force it fails', async () => {
    const b = bundle('missing');
    expect((await tsrun(b.root, ['delete', '--force', 'no-such'])).code).toBe(0);
    const r = await tsrun(b.root, ['delete', 'no-such']);
    expect(r.code).toBe(1);
    expect(errorOf(r)).toContain('container "no-such" does not exist');
  });

  it('spec writes runc spec\'s default and refuses to overwrite it', async () => {
    const b = bundle('spec');
    const dir = path.join(b.dir, 'specdir');
    (await import('node:fs')).mkdirSync(dir);
    expect(await tsrun(b.root, ['spec', '--bundle', dir])).toMatchObject({ code: 0, stderr: '' });
    const ours = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const again = await tsrun(b.root, ['spec', '--bundle', dir]);
    expect(errorOf(again)).toBe('File config.json exists. Remove it first');
    (await import('node:fs')).rmSync(path.join(dir, 'config.json'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('runc', ['spec', '--bundle', dir]);
    const theirs = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect({ ...ours, ociVersion: 'x', hostname: 'x' }).toEqual({ ...theirs, ociVersion: 'x', hostname: 'x' });
  });
});

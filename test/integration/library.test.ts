// tsrun as a library, in this process: run with piped stdio, the lifecycle, exec, a terminal,
// events, many containers at once, typed errors that leave nothing behind, and the CLI and
// the library each seeing the other's containers.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Runtime, Terminal, type Spawner } from '../../src/api/index.js';
import { recvFd, socketPair } from '../../src/native/index.js';
import { here } from '../../src/runtime/spawner.js';
import { bundlesPerTest, type TestBundle } from '../helpers/bundle.js';
import { tsrun } from '../helpers/cli.js';
import { isAlive, leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';
import { repoRoot } from '../helpers/paths.js';

const bundle = bundlesPerTest((b) => new Runtime({ root: b.root }).delete(b.id, { force: true }));

function collect(s: Readable | null): () => string {
  let text = '';
  s?.setEncoding('utf8').on('data', (d: string) => (text += d));
  return () => text;
}

function expectGone(b: TestBundle, id = b.id): void {
  expect(existsSync(path.join(b.root, id))).toBe(false);
  expect(leftoverCgroups(id)).toEqual([]);
  expect(leftoverMounts(b.dir)).toEqual([]);
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('library', () => {
  it('run: piped stdout and stderr, exit code 3', async () => {
    const b = bundle('lib-run', ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
    const rt = new Runtime({ root: b.root });
    const c = await rt.run(b.id, { bundle: b.dir, stdio: 'pipe' });
    const out = collect(c.stdout);
    const err = collect(c.stderr);
    expect(await c.wait()).toEqual({ exitCode: 3 });
    expect(out()).toBe('out\n');
    expect(err()).toBe('err\n');
    expect((await rt.state(b.id)).status).toBe('stopped');
    await c.delete();
    expectGone(b);
  });

  it('stdin piped in', async () => {
    const b = bundle('lib-stdin', ['/bin/sh', '-c', 'read line; echo "got $line"; exit 7']);
    const c = await new Runtime({ root: b.root }).run(b.id, { bundle: b.dir });
    const out = collect(c.stdout);
    c.stdin?.end('hello\n');
    expect(await c.wait()).toEqual({ exitCode: 7 });
    expect(out()).toBe('got hello\n');
  });

  it('create, state, start, state, exec (output, exit 4), list, kill, delete', async () => {
    const b = bundle('lib-life', ['/bin/sleep', '1000']);
    const rt = new Runtime({ root: b.root });
    const c = await rt.create(b.id, { bundle: b.dir, stdio: 'ignore' });
    const created = await rt.state(b.id);
    expect(created).toMatchObject({ id: b.id, status: 'created', pid: c.pid, bundle: b.dir, rootfs: b.rootfs });
    await rt.start(b.id);
    expect((await c.state()).status).toBe('running');

    const p = await rt.exec(b.id, { args: ['/bin/sh', '-c', 'echo in $(hostname); exit 4'], cwd: '/', env: ['PATH=/bin'] });
    const out = collect(p.stdout);
    expect(await p.wait()).toEqual({ exitCode: 4 });
    expect(out()).toBe('in tsrun\n');

    expect((await rt.list()).map((s) => [s.id, s.status])).toEqual([[b.id, 'running']]);
    await rt.kill(b.id, 'KILL');
    expect(await c.wait()).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    expect((await rt.state(b.id)).status).toBe('stopped');
    await rt.delete(b.id);
    expectGone(b);
    expect(isAlive(c.pid)).toBe(false);
    await expect(rt.state(b.id)).rejects.toBeInstanceOf(NotFound);
  });

  it('pause, resume, update, ps, events', async () => {
    const b = bundle('lib-cg', ['/bin/sleep', '1000']);
    const rt = new Runtime({ root: b.root });
    const c = await rt.run(b.id, { bundle: b.dir, stdio: 'ignore' });
    expect(await c.ps()).toEqual([c.pid]);
    await c.pause();
    expect((await c.state()).status).toBe('paused');
    await expect(rt.exec(b.id, { args: ['/bin/true'], cwd: '/' })).rejects.toBeInstanceOf(FailedPrecondition);
    await c.resume();
    await c.update({ memory: { limit: 64 * 1024 * 1024 } });
    expect((await c.stats()).memory.usage.limit).toBe(64n * 1024n * 1024n);
    await expect(c.update({ memory: { limit: 'lots' } as never })).rejects.toMatchObject({ kind: 'InvalidArgument', field: 'resources: memory.limit' });
    const seen: string[] = [];
    for await (const e of c.events({ interval: 50 })) {
      seen.push(e.type);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['stats', 'stats']);
    await c.kill('KILL');
    await c.wait();
    await c.delete();
    expectGone(b);
  });

  it("per call: the caller's spawner and a console socket fd; where its cgroups are; events without statistics", async () => {
    const b = bundle('lib-spawner', ['/bin/sleep', '1000']);
    const rt = new Runtime({ root: b.root });
    const calls: string[] = [];
    const exits: number[] = [];
    const spawner: Spawner = {
      spawn: (req) => (calls.push('spawn'), here.spawn(req)),
      claim: (pid) => (calls.push(`claim ${pid}`), here.claim(pid)),
      exit: (pid, pidfd) => (exits.push(pid), here.exit(pid, pidfd)),
      exitNow: (pid, pidfd) => here.exitNow(pid, pidfd),
    };
    const c = await rt.run(b.id, { bundle: b.dir, stdio: 'ignore', spawner });
    expect(calls).toEqual(['spawn', `claim ${c.pid}`]);

    const cgroups = await rt.cgroups(b.id);
    const dir = Object.entries(cgroups.v1).find(([k]) => k.split(',').includes('pids'))?.[1] ?? cgroups.unified;
    expect(readFileSync(path.join(dir ?? '/nonexistent', 'cgroup.procs'), 'utf8').split('\n')).toContain(String(c.pid));

    const [ours, theirs] = socketPair();
    try {
      const p = await rt.exec(
        b.id,
        { args: ['/bin/sh', '-c', 'tty; exit 6'], cwd: '/', env: ['PATH=/bin'], terminal: true },
        { consoleSocketFd: theirs, spawner },
      );
      expect(p.terminal).toBeNull();
      expect(calls.slice(2)).toEqual(['spawn', `claim ${p.pid}`]);
      const out = collect(new Terminal(recvFd(ours).fd));
      expect(await p.wait()).toEqual({ exitCode: 6 });
      expect(exits).toContain(p.pid);
      await until(async () => /\/dev\/pts\/\d+/.test(out()), "the terminal's output");
    } finally {
      closeSync(ours);
      closeSync(theirs);
    }

    // No OOM kill: nothing comes, where statistics would every 20 ms.
    const quiet = c.events({ interval: 20, stats: false });
    const first = await Promise.race([quiet.next(), new Promise((r) => setTimeout(() => r('nothing'), 300))]);
    expect(first).toBe('nothing');
    await quiet.return?.();

    await c.kill('KILL');
    expect(await c.wait()).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    expect(exits).toContain(c.pid);
    await c.delete();
    expectGone(b);
  });

  it('a terminal: written to, read from, resized', async () => {
    const b = bundle('lib-tty', ['/bin/sh']).edit((cfg) => (cfg.process.terminal = true));
    const c = await new Runtime({ root: b.root }).run(b.id, { bundle: b.dir });
    expect(c.stdout).toBeNull();
    const term = c.terminal;
    if (!term) throw new Error('no terminal');
    term.resize(100, 40);
    const out = collect(term);
    term.write('stty size; exit 5\n');
    expect(await c.wait()).toEqual({ exitCode: 5 });
    expect(out()).toContain('40 100');
  });

  it('many containers at once', async () => {
    const bs = Array.from({ length: 6 }, (_, i) => bundle(`lib-many${i}`, ['/bin/sh', '-c', `echo ${i}; exit ${i}`]));
    const rt = new Runtime({ root: bs[0]!.root });
    const results = await Promise.all(
      bs.map(async (b, i) => {
        const c = await rt.run(`${b.id}`, { bundle: b.dir });
        const out = collect(c.stdout);
        const exit = await c.wait();
        await c.delete();
        return [out(), exit.exitCode, i];
      }),
    );
    for (const [out, code, i] of results) expect([out, code]).toEqual([`${i}\n`, i]);
  });

  it('typed errors, and nothing left behind', async () => {
    const b = bundle('lib-err', ['/bin/sleep', '1000']);
    const rt = new Runtime({ root: b.root });
    await expect(rt.state('nope')).rejects.toBeInstanceOf(NotFound);
    await expect(rt.kill('nope', 'KILL')).rejects.toBeInstanceOf(NotFound);
    await expect(rt.delete('nope')).rejects.toBeInstanceOf(NotFound);

    const c = await rt.create(b.id, { bundle: b.dir, stdio: 'ignore' });
    // No fd of a failed create stays open (its pipes).
    const fds = (): string[] => readdirSync('/proc/self/fd');
    const before = fds();
    await expect(rt.create(b.id, { bundle: b.dir, stdio: 'pipe' })).rejects.toBeInstanceOf(AlreadyExists);
    expect(fds().filter((fd) => !before.includes(fd))).toEqual([]);
    await expect(rt.exec(b.id, { args: [], cwd: '/' })).rejects.toMatchObject({ kind: 'InvalidArgument', field: 'process.args' });
    await c.delete({ force: true });

    b.edit((cfg) => (cfg.process.cwd = 'relative'));
    const bad = await rt.create(b.id, { bundle: b.dir }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgument);
    expect(bad).toMatchObject({ field: 'process.cwd' });
    b.edit((cfg) => {
      cfg.process.cwd = '/';
      cfg.linux.resources = { memory: { limit: 'lots' } };
    });
    await expect(rt.create(b.id, { bundle: b.dir })).rejects.toMatchObject({ kind: 'InvalidArgument', field: 'linux.resources.memory.limit' });
    await expect(rt.create(b.id, { bundle: b.dir, stdio: 'loud' as never })).rejects.toBeInstanceOf(InvalidArgument);
    expectGone(b);
  });

  it('the CLI sees a library container, and the library a CLI one', async () => {
    const lib = bundle('lib-cli', ['/bin/sleep', '1000']);
    const rt = new Runtime({ root: lib.root });
    await rt.run(lib.id, { bundle: lib.dir, stdio: 'ignore' });
    const listed = await tsrun(lib.root, ['list', '-q']);
    expect(listed.stdout).toBe(`${lib.id}\n`);
    expect(JSON.parse((await tsrun(lib.root, ['state', lib.id])).stdout)).toMatchObject({ status: 'running' });
    expect(await tsrun(lib.root, ['exec', lib.id, '/bin/echo', 'via cli'])).toMatchObject({ code: 0, stdout: 'via cli\n' });
    expect((await tsrun(lib.root, ['delete', '--force', lib.id])).code).toBe(0);
    await expect(rt.state(lib.id)).rejects.toBeInstanceOf(NotFound);

    const cli = bundle('cli-lib', ['/bin/sleep', '1000']);
    expect((await tsrun(cli.root, ['run', '-d', '--bundle', cli.dir, cli.id])).code).toBe(0);
    const rt2 = new Runtime({ root: cli.root });
    expect(await rt2.state(cli.id)).toMatchObject({ status: 'running', bundle: cli.dir });
    const p = await rt2.exec(cli.id, { args: ['/bin/echo', 'via library'], cwd: '/' });
    const out = collect(p.stdout);
    await p.wait();
    expect(out()).toBe('via library\n');
    await rt2.kill(cli.id, 9);
    // Not this program's child: its exit is seen, its status was someone else's to reap.
    expect(await rt2.wait(cli.id)).toEqual({ exitCode: null });
    await rt2.delete(cli.id);
    expectGone(cli);
  });

  it('a container whose creating program exits keeps running, its state right', async () => {
    const b = bundle('lib-orphan', ['/bin/sh', '-c', 'exec sleep 1000']);
    const script = `
      import { Runtime } from ${JSON.stringify(path.join(repoRoot, 'dist/api/index.js'))};
      const rt = new Runtime({ root: ${JSON.stringify(b.root)} });
      await rt.run(${JSON.stringify(b.id)}, { bundle: ${JSON.stringify(b.dir)}, stdio: 'ignore' });
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => child.on('exit', r));
    expect(err).toBe('');
    expect(code).toBe(0);
    const rt = new Runtime({ root: b.root });
    const s = await rt.state(b.id);
    expect(s.status).toBe('running');
    expect(isAlive(s.pid)).toBe(true);
    const waited = rt.wait(b.id);
    await rt.kill(b.id, 'SIGKILL');
    expect(await waited).toEqual({ exitCode: null });
    await until(async () => (await rt.state(b.id)).status === 'stopped', 'stopped');
    await rt.delete(b.id);
    expectGone(b);
  });
});

// The native tsrun client and the warm CLI server (src/server, cpp/cli): the first call
// works with no server and leaves one; a server killed between calls, or in the middle of a
// create, is replaced and nothing is left behind; the container's init is the caller's
// descendant as with runc; calls the server does not serve, and TSRUN_SERVER=0, run in a
// Node of their own. Each test has a server of its own (TSRUN_SERVER_DIR), so that killing
// it touches no other test's calls.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runCommand, type Result } from '../helpers/cli.js';
import { listenersIn } from '../helpers/global-setup.js';
import { leftoverCgroups, processesWith } from '../helpers/leaks.js';
import { tsrunBin } from '../helpers/paths.js';
import { until } from '../helpers/runtimes.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A server directory of the test's own; its server is killed when the test ends. */
function serverDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-server-'));
  chmodSync(dir, 0o700);
  cleanups.push(() => {
    for (const pid of serverPids(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const serverPids = listenersIn;

function bundle(name: string, args: string[]): TestBundle {
  const b = new TestBundle(name, args);
  cleanups.push(() => {
    try {
      execFileSync(tsrunBin, ['--root', b.root, 'delete', '--force', b.id], { stdio: 'ignore', env: { ...process.env, TSRUN_SERVER: '0' } });
    } catch {
      // gone already
    }
    b.remove();
  });
  return b;
}

function tsrunIn(dir: string, root: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return runCommand(tsrunBin, ['--root', root, ...args], { env: { ...process.env, TSRUN_SERVER_DIR: dir, ...env } });
}

function expectNothingLeft(b: TestBundle): void {
  expect(leftoverCgroups(b.id)).toEqual([]);
  expect(existsSync(path.join(b.root, b.id))).toBe(false);
  expect(processesWith(b.dir)).toEqual([]);
}

describe('the native client and the warm CLI server', () => {
  it('the first call starts a server; the next are served by it', async () => {
    const dir = serverDir();
    const b = bundle('first', ['true']);
    expect(serverPids(dir)).toEqual([]);
    expect(await tsrunIn(dir, b.root, ['run', '--bundle', b.dir, b.id])).toMatchObject({ code: 0 });
    const [server] = serverPids(dir);
    expect(server).toBeDefined();
    const missing = await tsrunIn(dir, b.root, ['state', 'nope']);
    expect(missing.code).toBe(1);
    expect(errorOf(missing)).toContain('container "nope" does not exist');
    expect(serverPids(dir)).toEqual([server]);
    expectNothingLeft(b);
  });

  it('a server killed between calls is replaced', async () => {
    const dir = serverDir();
    const b = bundle('between', ['sleep', '1000']);
    expect((await tsrunIn(dir, b.root, ['create', '--bundle', b.dir, b.id])).code).toBe(0);
    const [first] = serverPids(dir);
    process.kill(first ?? 0, 'SIGKILL');
    await until('the server is gone', () => !serverPids(dir).includes(first ?? 0));
    expect((await tsrunIn(dir, b.root, ['start', b.id])).code).toBe(0);
    expect(JSON.parse((await tsrunIn(dir, b.root, ['state', b.id])).stdout).status).toBe('running');
    expect(serverPids(dir)).not.toContain(first);
    expect(serverPids(dir)).toHaveLength(1);
    expect((await tsrunIn(dir, b.root, ['delete', '--force', b.id])).code).toBe(0);
    expectNothingLeft(b);
  });

  it('a server killed during a create: the call still succeeds, and nothing is left behind', async () => {
    const dir = serverDir();
    const b = bundle('during', ['sleep', '1000']);
    const work = mkdtempSync(path.join(os.tmpdir(), 'tsrun-during-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const fifo = path.join(work, 'hold');
    execFileSync('mkfifo', [fifo]);
    // The first time it runs, the prestart hook tells who runs it (the server) and waits.
    const hook = path.join(work, 'hook.sh');
    writeFileSync(hook, `#!/bin/sh\nif [ ! -e ${work}/ran ]; then touch ${work}/ran; echo $PPID > ${work}/runner; read x < ${fifo}; fi\n`, { mode: 0o755 });
    b.edit((c) => (c.hooks = { prestart: [{ path: hook }] }));
    const creating = tsrunIn(dir, b.root, ['create', '--bundle', b.dir, b.id]);
    await until('the hook runs', () => existsSync(path.join(work, 'runner')) && readFileSync(path.join(work, 'runner'), 'utf8').trim() !== '');
    const runner = Number(readFileSync(path.join(work, 'runner'), 'utf8'));
    expect(serverPids(dir)).toEqual([runner]);
    process.kill(runner, 'SIGKILL');
    writeFileSync(fifo, 'go\n'); // the orphaned hook may go
    const created = await creating;
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const s = JSON.parse((await tsrunIn(dir, b.root, ['state', b.id])).stdout);
    expect(s.status).toBe('created');
    // One init only: the half-made one went with the server's call.
    expect(processesWith('tsrun-init').filter((pid) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(b.id))).toEqual([s.pid]);
    expect((await tsrunIn(dir, b.root, ['delete', '--force', b.id])).code).toBe(0);
    expectNothingLeft(b);
  });

  it('the init of a created container is the caller\'s child once tsrun exits, as with runc', async () => {
    const dir = serverDir();
    for (const runtime of [tsrunBin, 'runc']) {
      const b = bundle('parent', ['sleep', '1000']);
      const pidFile = path.join(b.dir, 'init.pid');
      // tini -s makes the shell's parent a subreaper, as conmon and containerd's shims are.
      // (the container keeps create's stdio: /dev/null, or our pipe would stay open)
      const script = `${runtime} --root ${b.root} create --bundle ${b.dir} --pid-file ${pidFile} ${b.id} </dev/null >/dev/null 2>&1 && awk '/^PPid/ {print $2}' /proc/$(cat ${pidFile})/status && echo $PPID`;
      const out = execFileSync('tini', ['-s', '--', 'sh', '-c', script], { env: { ...process.env, TSRUN_SERVER_DIR: dir }, encoding: 'utf8' });
      const [initParent, shellParent] = out.trim().split('\n');
      expect(initParent, runtime).toBe(shellParent);
      execFileSync(runtime, ['--root', b.root, 'delete', '--force', b.id], { env: { ...process.env, TSRUN_SERVER_DIR: dir } });
    }
  });

  it('calls the server does not serve run in Node, as do all with TSRUN_SERVER=0', async () => {
    const dir = serverDir();
    const b = bundle('cold', ['true']);
    const specDir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-spec-'));
    cleanups.push(() => rmSync(specDir, { recursive: true, force: true }));
    expect((await tsrunIn(dir, b.root, ['spec', '--bundle', specDir], { TSRUN_SERVER: '0' })).code).toBe(0);
    expect(existsSync(path.join(specDir, 'config.json'))).toBe(true);
    expect((await tsrunIn(dir, b.root, ['run', '--bundle', b.dir, b.id], { TSRUN_SERVER: '0' })).code).toBe(0);
    expect(serverPids(dir)).toEqual([]);
    rmSync(path.join(specDir, 'config.json'));
    // spec is not served: it runs cold even with a server there.
    expect((await tsrunIn(dir, b.root, ['state', 'nope'])).code).toBe(1);
    expect((await tsrunIn(dir, b.root, ['spec', '--bundle', specDir])).code).toBe(0);
    expect(existsSync(path.join(specDir, 'config.json'))).toBe(true);
    expectNothingLeft(b);
  });
});

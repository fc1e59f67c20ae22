// A brain's crash loses nothing (issue 11's acceptance), and neither does an upgrade. Four containers in three groups: a
// counter streaming to a file:// log every 20 ms and a sleeper in one pod, a container that
// exits 7 five seconds after it starts, and another sleeper. Every Node process serving them
// is SIGKILLed: containerd notices nothing (no "shim disconnected"), the tasks keep running,
// the counter's log has no gap and no repeat and keeps growing, the exit 7 that came while
// no brain ran is reported, exec and kill work. A second SIGKILL during an exec: the exec
// completes or fails, it never hangs. Then one group's keeper is killed: that group is
// cleaned up as a dead runc shim's would be, and the other groups do not notice.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Task } from '../../src/gen/containerd/task/v2/shim_pb.js';
import { Client } from '../../src/ttrpc/client.js';
import { repoRoot } from '../helpers/paths.js';
import { until } from '../helpers/runtimes.js';
import { containerId, IMAGE, NAMESPACE, shimContainerdForFile, TS } from '../helpers/shim.js';

const shim = shimContainerdForFile({ logLevel: 'debug' });

function tasks(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of shim().ctr(['task', 'ls']).split('\n').slice(1)) {
    const [id, , status] = line.trim().split(/\s+/);
    if (id) out.set(id, status ?? '');
  }
  return out;
}

/** The counter's numbers so far: 0, 1, 2... with no gap and no repeat, or it throws. */
function counted(log: string): number {
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  lines.forEach((l, i) => expect(l, `line ${i} of the counter's log`).toBe(String(i)));
  return lines.length;
}

function exitOf(id: string): number | undefined {
  const e = shim()
    .events(id)
    .find((x) => x.topic === '/tasks/exit' && x.payload.id === id);
  return e ? Number(e.payload.exit_status ?? 0) : undefined;
}

describe('a brain killed under running containers', () => {
  it('loses nothing: tasks, output, exits, events, exec, kill; and a dead keeper reaches its own group only', async () => {
    const pod = containerId('pod');
    const counter = containerId('counter');
    const sleeper = containerId('sleeper');
    const seven = containerId('seven');
    const alone = containerId('alone');
    const log = path.join(shim().ctd.dir, `${counter}.log`);
    const inPod = ['--annotation', `io.kubernetes.cri.sandbox-id=${pod}`];
    const run = async (id: string, cmd: string[], flags: string[] = []): Promise<void> => {
      const r = await shim().ctrRun(['run', '-d', '--runtime', TS, ...flags, IMAGE, id, ...cmd]);
      expect(r.code, r.stderr).toBe(0);
    };
    await run(counter, ['sh', '-c', 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.02; done'], [...inPod, '--log-uri', `file://${log}`]);
    await run(sleeper, ['sleep', '100000'], inPod);
    await run(alone, ['sleep', '100000']);
    await run(seven, ['sh', '-c', 'sleep 5; exit 7']);
    const sevenStarted = Date.now();
    await until('the counter to count', () => counted(log) > 10);
    const keepers = [counter, sleeper, seven, alone].map((id) => shim().keeperOf(id));
    expect(keepers[0]).toBe(keepers[1]);
    expect(new Set(keepers).size).toBe(3);
    const logFrom = shim().ctd.log().length;

    // Every Node process serving them, just before the exit 7 is due.
    await new Promise((r) => setTimeout(r, Math.max(0, 4500 - (Date.now() - sevenStarted))));
    const brains = shim().servers();
    expect(brains.length).toBeGreaterThan(0);
    for (const pid of brains) process.kill(pid, 'SIGKILL');
    const killedAt = counted(log);

    await until('the exit 7, reported once a brain runs again', () => exitOf(seven) !== undefined, 30_000);
    expect(exitOf(seven)).toBe(7);
    const now = tasks();
    for (const id of [counter, sleeper, alone]) expect(now.get(id), id).toBe('RUNNING');
    await until('the counter to go on', () => counted(log) > killedAt + 25);
    const exec = await shim().ctrRun(['task', 'exec', '--exec-id', 'after', alone, 'sh', '-c', 'echo alive; exit 4'], { timeoutMs: 30_000 });
    expect(exec).toMatchObject({ code: 4, stdout: 'alive\n' });
    shim().ctr(['task', 'kill', '-s', 'SIGKILL', sleeper]);
    await until('the sleeper\'s exit', () => exitOf(sleeper) !== undefined);
    expect(exitOf(sleeper)).toBe(137);

    // A second kill, with an exec on its way: it ends one way or the other, and in time.
    const slow = shim().ctrRun(['task', 'exec', '--exec-id', 'during', alone, 'sh', '-c', 'sleep 0.5; echo done'], { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 150));
    for (const pid of shim().servers()) process.kill(pid, 'SIGKILL');
    const during = await slow;
    console.log(`exec during the second kill: code ${during.code}, ${JSON.stringify(during.stdout)} ${JSON.stringify(during.stderr.trim())}`);
    expect(during.code, JSON.stringify(during)).not.toBeNull();
    if (during.code === 0) expect(during.stdout).toBe('done\n');
    expect(tasks().get(alone)).toBe('RUNNING');

    expect(shim().ctd.log().slice(logFrom)).not.toMatch(/shim disconnected/);
    for (const id of [counter, alone]) expect(tasks().get(id), id).toBe('RUNNING');

    // One group's keeper dies: containerd cleans that group up; the others go on.
    process.kill(shim().keeperOf(alone) as number, 'SIGKILL');
    await until('containerd to clean up the dead keeper\'s group', () => tasks().get(alone) === undefined || tasks().get(alone) === 'STOPPED', 30_000);
    const before = counted(log);
    await until('the counter to go on still', () => counted(log) > before + 25);
    expect(tasks().get(counter)).toBe('RUNNING');
    const last = await shim().ctrRun(['task', 'exec', '--exec-id', 'last', counter, 'sh', '-c', 'exit 5']);
    expect(last.code).toBe(5);
  }, 120_000);
});

describe('an upgrade under running containers', () => {
  it('hands every group to a new brain with no request failed, no output lost, nothing noticed', async () => {
    const counter = containerId('up-counter');
    const other = containerId('up-other');
    const log = path.join(shim().ctd.dir, `${counter}.log`);
    for (const [id, cmd, flags] of [
      [counter, ['sh', '-c', 'i=0; while true; do echo $i; i=$((i+1)); sleep 0.02; done'], ['--log-uri', `file://${log}`]],
      [other, ['sleep', '100000'], []],
    ] as const) {
      const r = await shim().ctrRun(['run', '-d', '--runtime', TS, ...flags, IMAGE, id, ...cmd]);
      expect(r.code, r.stderr).toBe(0);
    }
    await until('the counter to count', () => counted(log) > 10);
    const before = shim().serverOf(counter) as number;
    expect(before).toBeGreaterThan(0);
    expect(shim().serverOf(other)).toBe(before);
    const logFrom = shim().ctd.log().length;
    // Requests all along: each must succeed, before, during and after the hand-over.
    let busy = true;
    const failures: string[] = [];
    let calls = 0;
    const load = (async () => {
      while (busy) {
        const e = await shim().ctrRun(['task', 'exec', '--exec-id', `load${calls++}`, other, 'sh', '-c', 'echo ok'], { timeoutMs: 60_000 });
        if (e.code !== 0 || e.stdout !== 'ok\n') failures.push(JSON.stringify(e));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const up = spawnSync(path.join(repoRoot, 'bin', 'containerd-shim-ts-v2'), ['upgrade'], { env: { ...process.env, TSRUN_SHIM_SOCKET_DIR: shim().socketDir }, encoding: 'utf8', timeout: 90_000 });
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toContain(`brain ${before} at `);
    expect(up.stdout).toMatch(/^[1-9]\d* brains retired/m);
    await new Promise((r) => setTimeout(r, 500));
    busy = false;
    await load;
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(2);
    const after = shim().serverOf(counter) as number;
    expect(after).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    expect(shim().servers()).not.toContain(before);
    expect(shim().serverOf(other)).toBe(after);
    const n = counted(log);
    await until('the counter to go on', () => counted(log) > n + 25);
    expect(shim().ctd.log().slice(logFrom)).not.toMatch(/shim disconnected/);
    shim().ctr(['task', 'kill', '-s', 'SIGKILL', other]);
    await until('the exit, through the new brain', () => exitOf(other) !== undefined);
    expect(exitOf(other)).toBe(137);
    expect(tasks().get(counter)).toBe('RUNNING');
  }, 120_000);
});

// ctr's exec is Exec and Start at once; containerd's CRI and a slow client leave time between
// them. The process's ends of an exec's stdio were the brain's that opened them: one started
// by the next brain went to /dev/null (a success with its output lost, seen in the upgrade
// above under load).
describe('an exec registered by one brain and started by the next', () => {
  it('writes where containerd reads', async () => {
    const id = containerId('across');
    expect((await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, id, 'sleep', '100000'])).code).toBe(0);
    const fifo = path.join(shim().ctd.dir, `${id}.out`);
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const address = readFileSync(path.join(shim().ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id, 'address'), 'utf8');
    const client = new Client(address, { timeoutMs: 60_000 });
    try {
      const spec = { args: ['sh', '-c', 'echo across'], cwd: '/', env: ['PATH=/bin:/usr/bin'], user: { uid: 0, gid: 0 } };
      await client.unary(Task.method.exec, {
        id,
        execId: 'x',
        stdout: fifo,
        spec: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Process', value: new TextEncoder().encode(JSON.stringify(spec)) },
      });
      for (const pid of shim().servers()) process.kill(pid, 'SIGKILL');
      // Answered by the next brain: the Start below is its to answer.
      await until('the next brain', async () => (await client.unary(Task.method.state, { id }).then(() => true, () => false)) && shim().servers().length > 0);
      await client.unary(Task.method.start, { id, execId: 'x' });
      expect(await client.unary(Task.method.wait, { id, execId: 'x' })).toMatchObject({ exitStatus: 0 });
      // The keeper reports an exit once the output is drained: it is in the fifo now.
      const buf = Buffer.alloc(64);
      let n = 0;
      try {
        n = readSync(reader, buf);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      expect(buf.subarray(0, n).toString()).toBe('across\n');
      await client.unary(Task.method.delete, { id, execId: 'x' });
    } finally {
      client.destroy();
      closeSync(reader);
    }
    await shim().removeAll();
  }, 60_000);
});

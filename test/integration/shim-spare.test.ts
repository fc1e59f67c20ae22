// The warm spare and the namespace's host through containerd: once the host has gone with
// its last group, the next container is served by the spare the previous start left waiting
// (with containerd's environment: its events arrive), which hosts the groups after it; a
// spare that died is replaced, a keeper that had to start its brain after a crash leaves one
// too, and an idle spare exits leaving nothing behind.
import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/runtimes.js';
import { IMAGE, NAMESPACE, NO_LINGER, containerId, shimContainerdForFile, startShimContainerd, TS } from '../helpers/shim.js';

const shim = shimContainerdForFile();


const spareSockets = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('spare-'));

describe('the warm spare', () => {
  it('serves the next container once the host has gone, with its log and containerd\'s events, hosts the next group, and a new spare takes its place', async () => {
    const first = containerId('first');
    const second = containerId('second');
    const third = containerId('third');
    expect((await shim().run(TS, first, ['true'])).code).toBe(0);
    await until('a spare, and the host gone with its only container', () => shim().spares().length === 1 && shim().servers().length === 0);
    const [spare] = shim().spares();
    const r = await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, second, 'sleep', '1000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(shim().serverOf(second)).toBe(spare);
    expect(shim().spares()).not.toContain(spare);
    const bundle = (id: string): string => path.join(shim().ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id);
    expect(readlinkSync(`/proc/${spare}/fd/2`)).toBe(path.join(bundle(second), 'log'));
    // Events go to containerd's TTRPC_ADDRESS, which the spare learnt on adoption.
    await shim().waitEvent(second, '/tasks/start');
    const exec = await shim().ctrRun(['task', 'exec', '--exec-id', 'e1', second, 'sh', '-c', 'echo from-spare; exit 3']);
    expect(exec).toMatchObject({ code: 3, stdout: 'from-spare\n' });
    await until('the next spare', () => shim().spares().length === 1);
    expect(shim().spares()).not.toContain(spare);
    expect(spareSockets(shim().socketDir)).toHaveLength(1);

    // The spare is the host now: the next group is its, on a socket of its own.
    expect((await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, third, 'sleep', '1000'])).code).toBe(0);
    expect(shim().serverOf(third)).toBe(spare);
    expect(shim().servers()).toEqual([spare]);
    const exec3 = await shim().ctrRun(['task', 'exec', '--exec-id', 'e1', third, 'sh', '-c', 'echo hosted; exit 4']);
    expect(exec3).toMatchObject({ code: 4, stdout: 'hosted\n' });
    // The group whose log the host writes to ends: its log goes to the one left.
    await shim().ctrRun(['task', 'kill', '-s', 'SIGKILL', second]);
    // The init's exit: the second of the task's (its exec e1's came first).
    await shim().waitEvent(second, '/tasks/exit', 2);
    expect((await shim().ctrRun(['task', 'delete', second])).code).toBe(0);
    await until('the log of the group left', () => readlinkSync(`/proc/${spare}/fd/2`) === path.join(bundle(third), 'log'));
    expect(shim().serverOf(third)).toBe(spare);
    await shim().removeAll();
    expect(shim().servers()).toEqual([]);
    expect(readdirSync(shim().socketDir).filter((f) => !f.startsWith('spare-'))).toEqual([]);
  });

  it('replaces a spare that died: the container still runs, and a new spare waits', async () => {
    const before = containerId('before');
    expect((await shim().run(TS, before, ['true'])).code).toBe(0);
    await until('a spare', () => shim().spares().length === 1);
    const [dead] = shim().spares();
    process.kill(dead as number, 'SIGKILL');
    await until('the spare gone', () => !shim().spares().includes(dead as number));
    const id = containerId('after');
    const r = await shim().run(TS, id, ['echo', 'still-runs']);
    expect(r).toMatchObject({ code: 0, stdout: 'still-runs\n', stderr: '' });
    await until('a new spare', () => shim().spares().length === 1);
    expect(shim().spares()).not.toContain(dead);
    expect(spareSockets(shim().socketDir)).toHaveLength(1);
  });

  it('is left by a keeper that had to start its brain after a crash, and serves after the next crash', async () => {
    const id = containerId('crashes');
    expect((await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, id, 'sleep', '1000'])).code).toBe(0);
    await until('a spare', () => shim().spares().length === 1);
    const [dead] = shim().spares();
    process.kill(dead as number, 'SIGKILL');
    await until('the spare gone', () => !shim().spares().includes(dead as number));
    // No spare to adopt: the keeper spawns the next brain, and leaves a spare as start does.
    for (const pid of shim().servers()) process.kill(pid, 'SIGKILL');
    expect(await shim().ctrRun(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'exit 3'])).toMatchObject({ code: 3 });
    await until('a spare left by the keeper', () => shim().spares().length === 1);
    const [left] = shim().spares();
    for (const pid of shim().servers()) process.kill(pid, 'SIGKILL');
    expect(await shim().ctrRun(['task', 'exec', '--exec-id', 'e2', id, 'sh', '-c', 'exit 4'])).toMatchObject({ code: 4 });
    expect(shim().serverOf(id)).toBe(left);
    await until('the next spare', () => shim().spares().length === 1 && !shim().spares().includes(left as number));
    await shim().removeAll();
  });

  it('exits after its idle time with nothing left: no process, no socket', async () => {
    const idle = await startShimContainerd({ shimEnv: { ...NO_LINGER, TSRUN_SHIM_SPARE_IDLE_MS: '500' } });
    try {
      const id = containerId('idle');
      expect((await idle.run(TS, id, ['true'])).code).toBe(0);
      await until('no server and no spare', () => idle.servers().length === 0 && idle.spares().length === 0);
      expect(readdirSync(idle.socketDir)).toEqual([]);
    } finally {
      await idle.stop();
    }
  });
});

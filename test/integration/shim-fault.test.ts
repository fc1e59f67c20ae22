// Fault injection on the shim side: every brain of this test's containerd killed with
// SIGKILL at a point in create (ctr run -d), start, exec and delete, drawn with a fixed seed
// over the time the step took in a clean run (FAULT_POINTS per step). Nothing is lost: the
// step ends, with success or an error, never a hang; a container whose create or start
// succeeded runs, and its group is still served (an exec works); and `ctr task delete -f` /
// `ctr container rm` then leave nothing: no task, no cgroup, no mount, no container process,
// no shim state. One fault is placed exactly, as no draw hits it reliably: the brains killed
// between the freeze and the thaw of a kill --all.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountsUnder } from '../helpers/containerd.js';
import { leftoverCgroups, processesWith } from '../helpers/leaks.js';
import { until } from '../helpers/runtimes.js';
import { containerId, IMAGE, NAMESPACE, shimContainerdForFile, TS } from '../helpers/shim.js';

const POINTS = Number(process.env.FAULT_POINTS ?? 3);
const SEED = Number(process.env.FAULT_SEED ?? 0x5f17);
const shim = shimContainerdForFile();

let state = SEED >>> 0;
function random(): number {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state / 4294967296;
}

type Step = 'create' | 'start' | 'exec' | 'delete';

async function prepare(step: Step, id: string, mark: string): Promise<() => Promise<unknown>> {
  const s = shim();
  if (step === 'create') return () => s.ctrRun(['run', '-d', '--runtime', TS, IMAGE, id, 'sleep', mark]);
  expect((await s.ctrRun(['container', 'create', '--runtime', TS, IMAGE, id, 'sleep', mark])).code).toBe(0);
  if (step === 'start') return () => s.ctrRun(['task', 'start', '-d', id]);
  expect((await s.ctrRun(['task', 'start', '-d', id])).code).toBe(0);
  if (step === 'exec') return () => s.ctrRun(['task', 'exec', '--exec-id', 'x', id, 'sh', '-c', `sleep 0.3; : ${mark}`]);
  return () => s.ctrRun(['task', 'delete', '-f', id]);
}

async function cleanUpAndCheck(id: string, mark: string, what: string): Promise<void> {
  const s = shim();
  await s.ctrRun(['task', 'delete', '-f', id]);
  await s.ctrRun(['container', 'rm', id]);
  expect(s.ctr(['task', 'ls']).split('\n').filter((l) => l.startsWith(`${id} `)), what).toEqual([]);
  expect(s.ctr(['container', 'ls']).split('\n').filter((l) => l.startsWith(`${id} `)), what).toEqual([]);
  await until(`${what}: the container's processes to go`, () => processesWith(mark).length === 0);
  // containerd cleans up after a dead shim in the background: wait for it, bounded.
  const bundle = path.join(s.ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id);
  const log = (): string => `${what}\n${s.ctd.log().split('\n').filter((l) => l.includes(id)).slice(-15).join('\n')}`;
  await until(`${what}: cleanup`, () => leftoverCgroups(id).length === 0 && mountsUnder(bundle).length === 0 && !existsSync(path.join(s.stateRoot, NAMESPACE, id)), 20_000).catch(() => undefined);
  expect(leftoverCgroups(id), log()).toEqual([]);
  expect(mountsUnder(bundle), log()).toEqual([]);
  expect(existsSync(path.join(s.stateRoot, NAMESPACE, id)), `${log()}: shim state`).toBe(false);
}

function statusOf(id: string): string | undefined {
  const line = shim().ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(`${id} `));
  return line?.trim().split(/\s+/)[2];
}

/** What the step left is what it said: it ended, and what succeeded is there and served. */
async function checkNothingLost(step: Step, id: string, result: { code: number | null; stderr: string }, what: string): Promise<void> {
  expect(result.code, `${what}: the step must end (${result.stderr})`).not.toBeNull();
  if ((step === 'create' || step === 'start') && result.code === 0) expect(statusOf(id), what).toBe('RUNNING');
  if (step === 'delete' && result.code === 0) expect(statusOf(id), what).toBeUndefined();
  if (statusOf(id) === 'RUNNING') {
    // The group is served still: an exec ends, and runs unless the task was on its way out
    // (a kill the dead brain had sent before it went).
    const e = await shim().ctrRun(['task', 'exec', '--exec-id', `after-${Date.now()}`, id, 'sh', '-c', 'exit 3'], { timeoutMs: 90_000 });
    expect(e.code, `${what}: an exec after the kill must end (${e.stderr})`).not.toBeNull();
    if (e.code !== 3) {
      expect(e.stderr, what).toMatch(/init process is not running|not found|process already finished/);
      await until(`${what}: the task to be seen gone`, () => statusOf(id) !== 'RUNNING');
    }
  }
}

function killServers(): void {
  for (const pid of shim().servers()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

describe.each<Step>(['create', 'start', 'exec', 'delete'])('shim brains killed during %s', (step) => {
  it('lose nothing, and leave what ctr cleans up entirely', { timeout: 1_800_000 }, async () => {
    let n = 0;
    const next = (): { id: string; mark: string } => ({ id: containerId(`kill-${step}`), mark: `8${process.pid}${++n}` });
    const cal = next();
    const op = await prepare(step, cal.id, cal.mark);
    const t0 = Date.now();
    await op();
    const took = Date.now() - t0;
    await cleanUpAndCheck(cal.id, cal.mark, 'calibration');
    const delays: number[] = [];
    for (let i = 0; i < POINTS; i++) {
      const c = next();
      const run = await prepare(step, c.id, c.mark);
      const delay = Math.floor(random() * took);
      delays.push(delay);
      const pending = run();
      await new Promise((r) => setTimeout(r, delay));
      killServers();
      const what = `${step}, brains killed after ${delay} of ${took} ms`;
      await checkNothingLost(step, c.id, (await pending) as { code: number | null; stderr: string }, what);
      await cleanUpAndCheck(c.id, c.mark, what);
    }
    console.log(`shim fault: ${step} (${took} ms clean) with the brains killed after ${delays.join(', ')} ms; nothing lost, all cleaned up`);
  });
});

/** The container's freezer file and its words (ctr's cgroupsPath is /<namespace>/<id>). */
function freezer(id: string): { file: string; frozen: string; thawed: string } {
  const v1 = path.join('/sys/fs/cgroup/freezer', NAMESPACE, id, 'freezer.state');
  if (existsSync(v1)) return { file: v1, frozen: 'FROZEN', thawed: 'THAWED' };
  return { file: path.join('/sys/fs/cgroup', NAMESPACE, id, 'cgroup.freeze'), frozen: '1', thawed: '0' };
}

function pidOf(id: string): number {
  const line = shim().ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(`${id} `));
  return Number(line?.trim().split(/\s+/)[1]);
}

// Without cgroup.kill (cgroup v1), a kill --all freezes the container, signals every process
// and thaws it, as runc does. A brain killed in between left the container frozen, its
// signal pending, while the journal (and containerd) saw it running: the next brain took it
// over as it was, and an exec into it hung for good.
describe('shim brains killed between the freeze and the thaw of a kill --all', () => {
  it('leave no container frozen that was running: the next brain thaws it, the signal lands, a paused one stays paused', { timeout: 120_000 }, async () => {
    const s = shim();
    const [signalled, frozen, paused] = ['signalled', 'frozen', 'paused'].map((name, i) => ({ id: containerId(name), mark: `7${process.pid}${i}` })) as [
      { id: string; mark: string },
      { id: string; mark: string },
      { id: string; mark: string },
    ];
    for (const c of [signalled, frozen, paused]) {
      const r = await s.ctrRun(['run', '-d', '--runtime', TS, IMAGE, c.id, 'sleep', c.mark]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await s.ctrRun(['task', 'pause', paused.id])).code).toBe(0);
    // What the dead brain left: one container frozen with the SIGKILL it sent pending, one
    // frozen before the signal went out.
    for (const c of [signalled, frozen]) writeFileSync(freezer(c.id).file, freezer(c.id).frozen);
    process.kill(pidOf(signalled.id), 'SIGKILL');
    killServers();

    const e = await s.ctrRun(['task', 'exec', '--exec-id', 'after', frozen.id, 'sh', '-c', 'exit 3'], { timeoutMs: 30_000 });
    expect(e.code, `an exec into the container left frozen must run (${e.stderr})`).toBe(3);
    expect(readFileSync(freezer(frozen.id).file, 'utf8').trim()).toBe(freezer(frozen.id).thawed);
    expect(statusOf(frozen.id)).toBe('RUNNING');
    const exit = (await s.waitEvent(signalled.id, '/tasks/exit')).find((x) => x.topic === '/tasks/exit');
    expect(exit?.payload.exit_status, 'the exit of the init whose SIGKILL was pending').toBe(137);
    expect(statusOf(signalled.id)).toBe('STOPPED');
    expect(statusOf(paused.id)).toBe('PAUSED');
    expect(readFileSync(freezer(paused.id).file, 'utf8').trim()).toBe(freezer(paused.id).frozen);
    expect((await s.ctrRun(['task', 'resume', paused.id])).code).toBe(0);
    expect((await s.ctrRun(['task', 'exec', '--exec-id', 'after', paused.id, 'sh', '-c', 'exit 3'], { timeoutMs: 30_000 })).code).toBe(3);
    for (const c of [signalled, frozen, paused]) await cleanUpAndCheck(c.id, c.mark, c.id);
  });
});

// Fault injection on the shim side: every brain of this test's containerd killed with
// SIGKILL at a point in create (ctr run -d), start, exec and delete, drawn with a fixed seed
// over the time the step took in a clean run (FAULT_POINTS per step). Nothing is lost: the
// step ends, with success or an error, never a hang; a container whose create or start
// succeeded runs, and its group is still served (an exec works); and `ctr task delete -f` /
// `ctr container rm` then leave nothing: no task, no cgroup, no mount, no container process,
// no shim state.
import { existsSync } from 'node:fs';
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

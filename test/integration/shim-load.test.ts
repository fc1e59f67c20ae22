// Load through containerd and our shim: many containers, several at a time, and many execs
// into one container. No exit is lost (ctr's own result and containerd's event stream both
// carry each exit code), and nothing grows: no container cgroup or mount left, no shim server
// or zombie left, and the long-lived server's fds, threads and memory (PSS) as before.
// CI size here; `npm run load` runs LOAD_CONTAINERS at LOAD_PARALLEL and LOAD_EXECS.
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { mountsUnder } from '../helpers/containerd.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { procStats, type ProcStats } from '../helpers/proc-stats.js';
import { until } from '../helpers/runtimes.js';
import { containerId, IMAGE, NAMESPACE, processesMatching, shimContainerdForFile, TS } from '../helpers/shim.js';

const CONTAINERS = Number(process.env.LOAD_CONTAINERS ?? 20);
const PARALLEL = Number(process.env.LOAD_PARALLEL ?? 5);
const EXECS = Number(process.env.LOAD_EXECS ?? 200);
const EXEC_PARALLEL = 4;
const shim = shimContainerdForFile();

async function inParallel(count: number, parallel: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

function exitOf(id: string, execId?: string): number | undefined {
  const e = shim()
    .events(id)
    .find((x) => x.topic === '/tasks/exit' && (execId === undefined ? x.payload.id === id : x.payload.id === execId));
  return e ? Number(e.payload.exit_status ?? 0) : undefined;
}

it(`${CONTAINERS} containers, ${PARALLEL} at a time: every exit arrives and nothing is left`, { timeout: 3_600_000 }, async () => {
  const serversBefore = shim().servers().length;
  const ids = Array.from({ length: CONTAINERS }, (_, i) => containerId(`load${i}`));
  const started = Date.now();
  await inParallel(CONTAINERS, PARALLEL, async (i) => {
    const r = await shim().run(TS, ids[i] as string, ['sh', '-c', `exit ${i % 100}`], { timeoutMs: 120_000 });
    expect(r.code, `${ids[i]}: ${r.stderr}`).toBe(i % 100);
  });
  const seconds = (Date.now() - started) / 1000;
  for (const [i, id] of ids.entries()) {
    await until(`the exit event of ${id}`, () => exitOf(id) !== undefined);
    expect(exitOf(id), id).toBe(i % 100);
    expect(leftoverCgroups(id), id).toEqual([]);
  }
  expect(shim().ctr(['task', 'ls']).trim().split('\n').slice(1)).toEqual([]);
  expect(mountsUnder(shim().ctd.state)).toEqual([]);
  expect(mountsUnder(shim().stateRoot)).toEqual([]);
  // Servers go with their containers: at most the warm spare(s) there were before remain.
  await until('the brains and the keepers to exit', () => shim().servers().length <= Math.max(serversBefore, 1) && shim().keepers().length === 0, 30_000);
  // Every group's socket went with it, and the host's with the host.
  await until('only spare sockets left', () => readdirSync(shim().socketDir).every((f) => f.startsWith('spare-')));
  const zombies = processesMatching('').filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return rest[0] === 'Z' && Number(rest[1]) === shim().ctd.pid;
    } catch {
      return false;
    }
  });
  expect(zombies).toEqual([]);
  console.log(`load: ${CONTAINERS} containers at ${PARALLEL} in parallel in ${seconds.toFixed(1)} s, all exits delivered, no cgroup, mount, server or zombie left`);
});

it(`${EXECS} execs into one container: every exit arrives, neither the brain nor the keeper grows fds, threads, zombies or memory`, { timeout: 3_600_000 }, async () => {
  const id = containerId('execload');
  const r = await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, id, 'sleep', '1000000']);
  expect(r.code, r.stderr).toBe(0);
  const pid = shim().serverOf(id) as number;
  expect(pid).toBeGreaterThan(0);
  // The execs are the keeper's children, and their stdio its fds.
  const keeper = shim().keeperOf(id) as number;
  expect(keeper).toBeGreaterThan(0);
  const init = Number(shim().ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(`${id} `))?.trim().split(/\s+/)[1]);
  const mountsInside = (): number => readFileSync(`/proc/${init}/mountinfo`, 'utf8').split('\n').length;
  const exec = async (i: number): Promise<void> => {
    const res = await shim().ctrRun(['task', 'exec', '--exec-id', `e${i}`, id, 'sh', '-c', `exit ${i % 50}`], { timeoutMs: 120_000 });
    expect(res.code, `exec ${i}: ${res.stderr}`).toBe(i % 50);
  };
  // Warm-up: the server's first execs make what it keeps (watchers, caches, the JIT's code).
  await inParallel(20, EXEC_PARALLEL, (i) => exec(-1 - i + 1000000));
  const before: ProcStats = procStats(pid);
  const keeperBefore: ProcStats = procStats(keeper);
  const insideBefore = mountsInside();
  const started = Date.now();
  // PSS at each quarter: a leak grows it in step with the execs, a heap warming up does not.
  const pss: number[] = [before.pssKiB];
  for (let q = 1; q <= 4; q++) {
    const from = Math.floor(((q - 1) * EXECS) / 4);
    const to = Math.floor((q * EXECS) / 4);
    await inParallel(to - from, EXEC_PARALLEL, (i) => exec(from + i));
    pss.push(procStats(pid).pssKiB);
  }
  const seconds = (Date.now() - started) / 1000;
  for (let i = 0; i < EXECS; i++) {
    await until(`the exit event of exec e${i}`, () => exitOf(id, `e${i}`) !== undefined);
    expect(exitOf(id, `e${i}`)).toBe(i % 50);
  }
  const procs = (): string => readFileSync(`/sys/fs/cgroup/pids/${NAMESPACE}/${id}/cgroup.procs`, 'utf8').trim();
  await until('only the init left in the container', () => procs() === String(init));
  await until('the brain and the keeper to settle', () => procStats(pid).fds <= before.fds && procStats(keeper).fds <= keeperBefore.fds, 20_000);
  const after = procStats(pid);
  const keeperAfter = procStats(keeper);
  console.log(
    `load: ${EXECS} execs (${EXEC_PARALLEL} at a time) in ${seconds.toFixed(1)} s; brain before ${JSON.stringify(before)} after ${JSON.stringify(after)}; ` +
      `PSS KiB by quarter ${pss.join(' ')}; keeper before ${JSON.stringify(keeperBefore)} after ${JSON.stringify(keeperAfter)}`,
  );
  expect(after.fds).toBeLessThanOrEqual(before.fds);
  expect(keeperAfter.threads).toBe(1);
  expect(keeperAfter.zombieChildren).toBe(0);
  expect(keeperAfter.pssKiB - keeperBefore.pssKiB).toBeLessThan(1024);
  expect(after.threads).toBeLessThanOrEqual(before.threads + 2);
  expect(after.zombieChildren).toBe(0);
  // V8 grows its heap before it collects (measured over 2,000 execs: PSS by quarter 34, 72,
  // 82, 70, 45 MiB, and 33 MiB after), so a snapshot may catch the top of the saw; a leak of
  // the whole exec (its spec, io, process record) would pass this bound within a few hundred.
  expect(after.pssKiB - before.pssKiB).toBeLessThan(64 * 1024);
  expect(mountsInside()).toBe(insideBefore);
  await shim().ctrRun(['task', 'kill', '-s', 'SIGKILL', id]);
  await until('the init exit', () => exitOf(id) !== undefined);
  expect(exitOf(id)).toBe(137);
  expect((await shim().ctrRun(['task', 'delete', id])).code).toBe(0);
  expect((await shim().ctrRun(['container', 'rm', id])).code).toBe(0);
  expect(leftoverCgroups(id)).toEqual([]);
});

// ttrpc fuzzing against a real shim (the keeper and brain containerd started for a running
// container), with the cases of the in-process fuzzer: random bytes, truncated frames,
// oversized lengths, unknown services and methods, garbage payloads. Neither dies, a bad
// connection gets an error answer or is closed, a good connection (State on the container)
// keeps working throughout, the container is still managed afterwards, and the keeper's and
// the brain's fds and memory come back to where they were. Fixed seed; FUZZ_SHIM_PEERS under
// `npm run fuzz`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { Task } from '../../src/gen/containerd/task/v2/shim_pb.js';
import { Client } from '../../src/ttrpc/client.js';
import { procStats } from '../helpers/proc-stats.js';
import { until } from '../helpers/runtimes.js';
import { containerId, IMAGE, NAMESPACE, shimContainerdForFile, TS } from '../helpers/shim.js';
import { runPeers, seedFuzz } from '../helpers/ttrpc-fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_0013);
const WARMUP = 100;
const PEERS = Number(process.env.FUZZ_SHIM_PEERS ?? 400);
const shim = shimContainerdForFile();

it(`a shim survives ${PEERS} fuzzing peers while serving containerd and a good client`, { timeout: 600_000 }, async () => {
  const id = containerId('fuzz');
  const r = await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, id, 'sleep', '100000']);
  expect(r.code, r.stderr).toBe(0);
  const bundle = path.join(shim().ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id);
  const address = readFileSync(path.join(bundle, 'address'), 'utf8').trim();
  const socket = address.replace('unix://', '');
  const server = shim().serverOf(id);
  expect(server).toBeGreaterThan(0);
  const pid = server as number;
  // containerd's connections, and the fuzzers', are the keeper's.
  const keeper = shim().keeperOf(id) as number;
  expect(keeper).toBeGreaterThan(0);

  const base = procStats(pid).fds;
  const keeperBase = procStats(keeper).fds;
  const good = new Client(address, { timeoutMs: 10_000 });
  let goodCalls = 0;
  let fuzzing = true;
  const goodLoop = (async () => {
    while (fuzzing) {
      const res = await good.unary(Task.method.state, { id });
      expect(res.id).toBe(id);
      expect(res.pid).toBeGreaterThan(0);
      goodCalls++;
      await new Promise((res) => setTimeout(res, 5));
    }
  })();

  seedFuzz(SEED);
  await runPeers(socket, WARMUP, 10);
  await until('the warm-up connections to close', () => procStats(pid).fds <= base + 1 && procStats(keeper).fds <= keeperBase + 1, 20_000);
  const before = procStats(pid);
  const keeperBefore = procStats(keeper);
  await runPeers(socket, PEERS, 10);
  fuzzing = false;
  await goodLoop;
  await good.close();
  // The peers are gone: so must their connections be.
  await until('the keeper and the brain to drop the fuzzing connections', () => procStats(pid).fds <= base && procStats(keeper).fds <= keeperBase, 20_000);
  const after = procStats(pid);
  const keeperAfter = procStats(keeper);
  console.log(
    `shim fuzz: ${WARMUP + PEERS} peers, ${goodCalls} good calls; brain before ${JSON.stringify(before)} after ${JSON.stringify(after)}; ` +
      `keeper before ${JSON.stringify(keeperBefore)} after ${JSON.stringify(keeperAfter)}`,
  );
  expect(goodCalls).toBeGreaterThan(5);
  expect(after.threads).toBeLessThanOrEqual(before.threads + 2);
  expect(after.zombieChildren).toBe(0);
  expect(after.pssKiB - before.pssKiB).toBeLessThan(32 * 1024);
  expect(keeperAfter.threads).toBe(1);
  expect(keeperAfter.pssKiB - keeperBefore.pssKiB).toBeLessThan(1024);

  // containerd still manages the container through the same server.
  const exec = await shim().ctrRun(['task', 'exec', '--exec-id', 'after', id, 'sh', '-c', 'exit 7']);
  expect(exec.code).toBe(7);
  await shim().ctrRun(['task', 'kill', '-s', 'SIGKILL', id]);
  // The exec's exit was the first.
  await shim().waitEvent(id, '/tasks/exit', 2);
  const del = await shim().ctrRun(['task', 'delete', id]);
  expect(del.code, del.stderr).toBe(0);
  expect((await shim().ctrRun(['container', 'rm', id])).code).toBe(0);
  await until('the keeper and the brain to exit with the last container', () => !shim().servers().includes(pid) && !shim().keepers().includes(keeper));
});

// Fuzzes the server with what a broken or hostile peer might send: random bytes, frames cut
// short, lengths up to 4 GiB, unknown names, garbage payloads, mangled envelopes and random
// headers. The run is fixed (seeded) and bounded. It checks that the server never throws,
// answers what has a defined answer, keeps serving a well-behaved client throughout, and holds
// no connection, call or memory once the peers are gone.

import { create, toBinary } from '@bufbuild/protobuf';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectRequestSchema, Task } from '../../../src/gen/containerd/task/v2/shim_pb.js';
import { Client } from '../../../src/ttrpc/client.js';
import { Server } from '../../../src/ttrpc/server.js';
import { runPeers, seedFuzz } from '../../helpers/ttrpc-fuzz.js';
import { socketDir } from '../../helpers/ttrpc-raw.js';

const SEED = 0x7757_2024;
const WARMUP_PEERS = 150;
const PEERS = Number(process.env.FUZZ_PEERS ?? 900);
const PARALLEL = 30;


setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** JS heap plus Buffer memory, which lives outside the heap. */
function memoryAfterGc(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

const dir = socketDir();
const sock = dir.path('fuzz.sock');
const errors: Error[] = [];
const server = new Server({ onError: (err) => errors.push(err) });
server.register(Task, { connect: (req) => ({ shimPid: req.id.length }) });

beforeAll(async () => {
  seedFuzz(SEED);
  await server.listen(sock);
});

afterAll(() => {
  server.close();
  dir.remove();
});

// A fixed amount of work (PEERS connections); the timeout is only a guard for a loaded machine.
it('survives random, truncated, oversized and garbage frames while serving a good client', { timeout: 90_000 }, async () => {
  const good = new Client(sock);
  let goodCalls = 0;
  let fuzzing = true;
  const goodLoop = (async () => {
    while (fuzzing) {
      const res = await good.unary(Task.method.connect, { id: 'abc' }, { timeoutMs: 2000 });
      expect(res.shimPid).toBe(3);
      goodCalls++;
    }
  })();

  await runPeers(sock, WARMUP_PEERS, PARALLEL);
  const before = memoryAfterGc();
  await runPeers(sock, PEERS, PARALLEL);
  fuzzing = false;
  await goodLoop;

  // The well-behaved connection went on being served, and is the only one left.
  expect(goodCalls).toBeGreaterThan(20);
  const deadline = Date.now() + 2000;
  while (server.connectionCount > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(server.connectionCount).toBe(1);
  expect(server.inflightCount).toBe(0);
  await good.close();
  while (server.connectionCount > 0 && Date.now() < deadline + 1000) await new Promise((r) => setTimeout(r, 10));
  expect(server.connectionCount).toBe(0);

  const grown = memoryAfterGc() - before;
  console.log(`fuzz: ${WARMUP_PEERS + PEERS} peers, ${goodCalls} good calls, memory grown ${(grown / 1024).toFixed(0)} KiB`);
  expect(grown).toBeLessThan(4 << 20);
  expect(errors).toEqual([]);
});

it('still answers a normal call after the fuzzing', async () => {
  const c = new Client(sock);
  const payload = toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { id: 'x' }));
  expect((await c.call('containerd.task.v2.Task', 'Connect', payload)).length).toBeGreaterThan(0);
  await c.close();
});

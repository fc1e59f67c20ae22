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
import { RequestSchema } from '../../../src/gen/ttrpc/request_pb.js';
import { Client } from '../../../src/ttrpc/client.js';
import { MessageType, encodeFrame } from '../../../src/ttrpc/frame.js';
import { Server } from '../../../src/ttrpc/server.js';
import { Code } from '../../../src/ttrpc/status.js';
import { RawPeer, socketDir } from '../../helpers/ttrpc-raw.js';

const SEED = 0x7757_2024;
const WARMUP_PEERS = 150;
const PEERS = 900;
const PARALLEL = 30;

/** mulberry32: small, fast and good enough to pick fuzz cases reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(SEED);
const int = (n: number) => Math.floor(random() * n);
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;

function header(length: number, streamId: number, type: number, flags: number): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt32BE(length >>> 0, 0);
  h.writeUInt32BE(streamId >>> 0, 4);
  h[8] = type;
  h[9] = flags;
  return h;
}

function request(service: string, method: string, payload: Uint8Array): Uint8Array {
  return toBinary(RequestSchema, create(RequestSchema, { service, method, payload }));
}

/** What to expect back: a Response on this stream with this code, or nothing in particular. */
type Expectation = { streamId: number; code: number | 'any' } | undefined;

interface Case {
  name: string;
  send: Buffer[];
  expect: Expectation;
}

function makeCase(): Case {
  const id = 1 + 2 * int(1000);
  switch (int(8)) {
    case 0:
      return { name: 'random bytes', send: [bytes(1 + int(3000))], expect: undefined };
    case 1: {
      const full = encodeFrame(id, MessageType.Request, 0, request('x.Y', 'Z', bytes(int(500))));
      return { name: 'truncated frame', send: [full.subarray(0, int(full.length))], expect: undefined };
    }
    case 2: {
      const length = (4 << 20) + 1 + int(0xffffffff - (4 << 20));
      return { name: 'oversized length', send: [header(length, id, MessageType.Request, 0), bytes(int(2000))], expect: { streamId: id, code: Code.ResourceExhausted } };
    }
    case 3: {
      const service = pick(['', 'containerd.task.v2.Task', 'no.Such', bytes(8).toString('latin1')]);
      const method = service === 'containerd.task.v2.Task' ? `Nope${int(99)}` : 'Create';
      return { name: 'unknown name', send: [encodeFrame(id, MessageType.Request, 0, request(service, method, bytes(int(50))))], expect: { streamId: id, code: Code.Unimplemented } };
    }
    case 4:
      // Random bytes may or may not decode as the method's request; either way there is one answer.
      return { name: 'garbage payload', send: [encodeFrame(id, MessageType.Request, 0, request('containerd.task.v2.Task', 'Connect', bytes(1 + int(200))))], expect: { streamId: id, code: 'any' } };
    case 5: {
      const env = Buffer.from(request('containerd.task.v2.Task', 'Connect', bytes(20)));
      for (let i = 0; i < 1 + int(4); i++) {
        const at = int(env.length);
        env[at] = (env[at] ?? 0) ^ (1 << int(8));
      }
      return { name: 'mangled envelope', send: [encodeFrame(id, MessageType.Request, 0, env)], expect: { streamId: id, code: 'any' } };
    }
    case 6: {
      const data = bytes(int(300));
      return { name: 'random header', send: [header(data.length, int(2 ** 32), int(256), int(256)), data], expect: undefined };
    }
    default: {
      // Many tiny frames in one write, to exercise the per-chunk loop and the backlog.
      const frames = Array.from({ length: 50 + int(200) }, (_, i) => encodeFrame(id + 2 * i, pick([1, 2, 3, 9]), int(8), bytes(int(20))));
      return { name: 'frame burst', send: [Buffer.concat(frames)], expect: undefined };
    }
  }
}

/** Splits the bytes at random points, as a socket might deliver them. */
function chunked(parts: Buffer[]): Buffer[] {
  const all = Buffer.concat(parts);
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; ) {
    const n = 1 + int(Math.min(all.length - at, 700));
    out.push(all.subarray(at, at + n));
    at += n;
  }
  return out;
}

async function runPeer(sock: string): Promise<void> {
  const c = makeCase();
  const peer = await RawPeer.connect(sock);
  for (const chunk of chunked(c.send)) peer.write(chunk);
  if (c.expect) {
    const frames = await peer.waitFrames(1, 3000);
    const answer = frames.findIndex((f) => f.streamId === c.expect?.streamId);
    expect(answer, c.name).toBeGreaterThanOrEqual(0);
    expect(frames[answer]?.type, c.name).toBe(MessageType.Response);
    if (c.expect.code !== 'any') expect(peer.response(answer).status?.code, c.name).toBe(c.expect.code);
  }
  if (random() < 0.5) {
    // Half-close: the server must notice, finish what it runs and close its side too.
    peer.socket.end();
    const closedInTime = await Promise.race([peer.closed.then(() => true), new Promise((r) => setTimeout(r, 3000, false))]);
    expect(closedInTime, `${c.name}: server did not close a half-closed connection`).toBe(true);
  }
  peer.destroy();
  await peer.closed;
}

async function runPeers(sock: string, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await runPeer(sock);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

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

  await runPeers(sock, WARMUP_PEERS);
  const before = memoryAfterGc();
  await runPeers(sock, PEERS);
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

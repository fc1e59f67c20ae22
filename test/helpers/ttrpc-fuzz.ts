// Fuzz cases for a ttrpc server, shared by the in-process fuzzer (test/unit/ttrpc) and the
// one against a real shim server (test/integration): random bytes, frames cut short, lengths
// up to 4 GiB, unknown names, garbage payloads, mangled envelopes, random headers, bursts.
// Every call names only Task.Connect or names that do not exist, so nothing a case sends
// can change a real shim's containers.

import { create, toBinary } from '@bufbuild/protobuf';
import { expect } from 'vitest';
import { RequestSchema } from '../../src/gen/ttrpc/request_pb.js';
import { MessageType, encodeFrame } from '../../src/ttrpc/frame.js';
import { Code } from '../../src/ttrpc/status.js';
import { RawPeer } from './ttrpc-raw.js';

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

let random = prng(0);
/** Starts the case sequence over from a seed. */
export function seedFuzz(seed: number): void {
  random = prng(seed);
}
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

export function makeCase(): Case {
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

export async function runPeer(sock: string): Promise<void> {
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

export async function runPeers(sock: string, count: number, parallel = 30): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await runPeer(sock);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

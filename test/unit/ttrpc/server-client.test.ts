import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectRequestSchema, StateRequestSchema, Task } from '../../../src/gen/containerd/task/v2/shim_pb.js';
import { RequestSchema } from '../../../src/gen/ttrpc/request_pb.js';
import { Client } from '../../../src/ttrpc/client.js';
import { FrameReader, Flags, MessageType, type Frame } from '../../../src/ttrpc/frame.js';
import { Metadata } from '../../../src/ttrpc/metadata.js';
import { Server } from '../../../src/ttrpc/server.js';
import { Code, TtrpcError } from '../../../src/ttrpc/status.js';
import { RawPeer, socketDir } from '../../helpers/ttrpc-raw.js';

const TASK = 'containerd.task.v2.Task';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function failure(p: Promise<unknown>): Promise<TtrpcError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TtrpcError);
    return err as TtrpcError;
  }
  throw new Error('expected the call to fail');
}

let dir: ReturnType<typeof socketDir>;
let sock: string;
let server: Server;
let clients: Client[];

function client(options?: ConstructorParameters<typeof Client>[1]): Client {
  const c = new Client(sock, options);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  dir = socketDir();
  sock = dir.path('s.sock');
  clients = [];
  server = new Server();
  server.register(Task, {
    // Echoes the id back as the pid so concurrent answers can be matched to their requests.
    connect: async (req, ctx) => {
      const delay = Number(ctx.metadata.first('delay') ?? 0);
      if (delay) await sleep(delay);
      return { shimPid: Number(req.id), version: ctx.metadata.get('x-tag').join(',') };
    },
    state: (req) => {
      if (req.id === 'missing') throw new TtrpcError(Code.NotFound, 'container missing: not found');
      if (req.id === 'plain') throw new Error('something broke');
      return { id: req.id, execId: req.execId };
    },
    // Waits for its signal, to show deadlines and cancellation reach the handler.
    wait: (_req, ctx) =>
      new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))),
  });
  await server.listen(sock);
});

afterEach(async () => {
  for (const c of clients) c.destroy();
  server.close();
  dir.remove();
});

describe('server and client', () => {
  it('make typed unary calls through generated descriptors', async () => {
    const c = client();
    const res = await c.unary(Task.method.connect, { id: '42' });
    expect(res.shimPid).toBe(42);
    const state = await c.unary(Task.method.state, { id: 'c1', execId: 'e1' });
    expect(state).toMatchObject({ id: 'c1', execId: 'e1' });
  });

  it('run many calls at once on one connection and match answers that come back out of order', async () => {
    const c = client();
    const calls = Array.from({ length: 40 }, (_, i) =>
      c.unary(Task.method.connect, { id: String(i) }, { metadata: new Metadata({ delay: String((40 - i) * 2) }) }),
    );
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.shimPid)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(server.connectionCount).toBe(1);
  });

  it('serve many connections at once', async () => {
    const cs = Array.from({ length: 8 }, () => client());
    const answers = await Promise.all(cs.map((c, i) => c.unary(Task.method.connect, { id: String(i) })));
    expect(answers.map((a) => a.shimPid)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(server.connectionCount).toBe(8);
  });

  it('carry metadata with repeated keys', async () => {
    const md = new Metadata();
    md.append('X-Tag', 'a');
    md.append('x-tag', 'b');
    const res = await client().unary(Task.method.connect, { id: '1' }, { metadata: md });
    expect(res.version).toBe('a,b');
  });

  it('answer unknown services and methods with Unimplemented, as Go does', async () => {
    const c = client();
    const svc = await failure(c.call('no.such.Service', 'X', new Uint8Array()));
    expect([svc.code, svc.message]).toEqual([Code.Unimplemented, 'service no.such.Service']);
    const method = await failure(c.call(TASK, 'Teleport', new Uint8Array()));
    expect([method.code, method.message]).toEqual([Code.Unimplemented, 'method Teleport']);
    // Registered service, method the implementation left out.
    const left = await failure(c.unary(Task.method.kill, { id: 'x' }));
    expect([left.code, left.message]).toEqual([Code.Unimplemented, 'method Kill']);
  });

  it('pass a handler status through and turn other throws into Unknown', async () => {
    const c = client();
    const nf = await failure(c.unary(Task.method.state, { id: 'missing' }));
    expect([nf.code, nf.message]).toEqual([Code.NotFound, 'container missing: not found']);
    const unknown = await failure(c.unary(Task.method.state, { id: 'plain' }));
    expect([unknown.code, unknown.message]).toEqual([Code.Unknown, 'something broke']);
  });

  it('answer a payload that does not decode with Internal', async () => {
    const err = await failure(client().call(TASK, 'State', Uint8Array.of(0x0a, 0x05, 0x61)));
    expect(err.code).toBe(Code.Internal);
    expect(err.message).toMatch(/^ttrpc: error unmarshalling payload: /);
  });

  it('send the deadline as timeout_nano; the server aborts the handler and answers DeadlineExceeded', async () => {
    const raw = await RawPeer.connect(sock);
    const payload = toBinary(StateRequestSchema, create(StateRequestSchema, { id: 'w' }));
    raw.request(1, { service: TASK, method: 'Wait', payload, timeoutNano: 30_000_000n });
    const [frame] = await raw.waitFrames(1);
    expect(frame?.streamId).toBe(1);
    expect(raw.response(0).status?.code).toBe(Code.DeadlineExceeded);
    expect(server.inflightCount).toBe(0);
    raw.destroy();

    const started = Date.now();
    const err = await failure(client().unary(Task.method.wait, { id: 'w' }, { timeoutMs: 40 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('cancel a call from the client side with an AbortSignal', async () => {
    const ac = new AbortController();
    const call = client().unary(Task.method.wait, { id: 'w' }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect((await failure(call)).code).toBe(Code.Canceled);
    expect((await failure(client().unary(Task.method.wait, {}, { signal: ac.signal }))).code).toBe(Code.Canceled);
  });

  it('refuse to send a request over 4 MiB', async () => {
    const err = await failure(client().call(TASK, 'State', new Uint8Array(5 << 20)));
    expect(err.code).toBe(Code.ResourceExhausted);
  });

  it('shut down gracefully: running calls finish and answer, new ones get Unavailable', async () => {
    const c = client();
    const slow = c.unary(Task.method.connect, { id: '7' }, { metadata: new Metadata({ delay: '150' }) });
    await sleep(30);
    const shutdown = server.shutdown();
    const refused = await failure(c.unary(Task.method.connect, { id: '8' }));
    expect(refused.code).toBe(Code.Unavailable);
    expect((await slow).shimPid).toBe(7);
    await shutdown;
    expect(server.connectionCount).toBe(0);
    await expect(client().connect()).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it('close gracefully on the client: calls in flight still get their answers', async () => {
    const c = client();
    const slow = c.unary(Task.method.connect, { id: '9' }, { metadata: new Metadata({ delay: '80' }) });
    await sleep(10);
    const closing = c.close();
    expect((await slow).shimPid).toBe(9);
    await closing;
    expect(c.connected).toBe(false);
    expect((await failure(c.unary(Task.method.connect, { id: '1' }))).code).toBe(Code.Unavailable);
    await sleep(20);
    expect(server.connectionCount).toBe(0);
  });

  it('reconnect after the server goes away and comes back', async () => {
    const c = client();
    expect((await c.unary(Task.method.connect, { id: '1' })).shimPid).toBe(1);
    const pending = c.unary(Task.method.wait, { id: 'w' });
    await sleep(20);
    server.close();
    expect((await failure(pending)).code).toBe(Code.Unavailable);
    expect((await failure(c.unary(Task.method.connect, { id: '2' }))).code).toBe(Code.Unavailable);

    server = new Server().register(Task, { connect: (req) => ({ shimPid: Number(req.id) + 1000 }) });
    await server.listen(sock);
    expect((await c.unary(Task.method.connect, { id: '3' })).shimPid).toBe(1003);
    expect(c.connected).toBe(true);
  });

  it('stop reading from a connection that has too many calls running', async () => {
    server.close();
    let running = 0;
    let most = 0;
    server = new Server({ maxInflightPerConnection: 3 });
    server.registerRaw('t.S', 'M', async () => {
      most = Math.max(most, ++running);
      await sleep(10);
      running--;
      return new Uint8Array();
    });
    await server.listen(sock);
    const c = client();
    await Promise.all(Array.from({ length: 20 }, () => c.call('t.S', 'M', new Uint8Array())));
    expect(most).toBe(3);
  });
});

describe('client on the wire', () => {
  it('opens streams 1, 3, 5 with flags 0 and a Request naming service and method', async () => {
    const seen: Frame[] = [];
    const fake = net.createServer((socket) => {
      const reader = new FrameReader();
      socket.on('data', (chunk) =>
        reader.push(chunk, {
          frame: (f) => {
            seen.push({ ...f, data: Buffer.from(f.data) });
            // Answer with an empty Response and no status, as containerd does for Empty.
            socket.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, f.streamId, MessageType.Response, 0]));
          },
          oversize: () => {},
        }),
      );
    });
    const fakeSock = dir.path('fake.sock');
    await new Promise<void>((r) => fake.listen(fakeSock, r));
    try {
      // The unix:// form that shim addresses use is accepted too.
      const raw = new Client(`unix://${fakeSock}`);
      clients.push(raw);
      for (let i = 0; i < 3; i++) await raw.unary(Task.method.connect, { id: 'x' });
      expect(seen.map((f) => [f.streamId, f.type, f.flags])).toEqual([
        [1, 1, 0],
        [3, 1, 0],
        [5, 1, 0],
      ]);
      const req = fromBinary(RequestSchema, seen[0]!.data);
      expect(req.service).toBe(TASK);
      expect(req.method).toBe('Connect');
      expect(req.timeoutNano).toBe(0n);
      expect(fromBinary(ConnectRequestSchema, req.payload).id).toBe('x');
    } finally {
      fake.close();
    }
  });
});

describe('server against a raw peer', () => {
  const payload = toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { id: '5' }));

  it('refuses even stream ids, re-used ids and stray data frames on their own stream, and keeps going', async () => {
    const raw = await RawPeer.connect(sock);
    raw.request(2, { service: TASK, method: 'Connect', payload });
    raw.request(5, { service: TASK, method: 'Connect', payload });
    await raw.waitFrames(2);
    raw.request(3, { service: TASK, method: 'Connect', payload });
    raw.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, 99, MessageType.Data, Flags.RemoteClosed | Flags.NoData]));
    raw.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, 101, MessageType.Response, 0]));
    raw.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, 103, 0x7f, 0]));
    raw.request(7, { service: TASK, method: 'Connect', payload });
    await raw.waitFrames(5);
    const answers = raw.frames.map((f, i) => [f.streamId, f.type, raw.response(i).status?.code ?? 0, raw.response(i).status?.message ?? '']);
    expect(answers).toEqual([
      [2, MessageType.Response, Code.InvalidArgument, 'StreamID must be odd for client initiated streams'],
      [5, MessageType.Response, 0, ''],
      [3, MessageType.Response, Code.InvalidArgument, 'StreamID cannot be re-used and must increment'],
      [99, MessageType.Response, Code.InvalidArgument, 'StreamID is no longer active'],
      [7, MessageType.Response, 0, ''],
    ]);
    raw.destroy();
  });

  it('refuses a streamed request and a data frame sent into a running unary call', async () => {
    const raw = await RawPeer.connect(sock);
    raw.request(1, { service: TASK, method: 'Connect', payload }, Flags.RemoteOpen);
    raw.request(3, { service: TASK, method: 'Wait', payload });
    raw.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, 3, MessageType.Data, 0]));
    await raw.waitFrames(2);
    expect(raw.response(0).status).toMatchObject({ code: Code.Unimplemented, message: 'method Connect does not accept streamed requests' });
    expect(raw.frames[1]?.streamId).toBe(3);
    expect(raw.response(1).status?.code).toBe(Code.InvalidArgument);
    await sleep(20);
    expect(raw.frames).toHaveLength(2);
    expect(server.inflightCount).toBe(0);
    raw.destroy();
  });

  it('answers an oversized frame with ResourceExhausted on its stream and keeps the connection', async () => {
    const raw = await RawPeer.connect(sock);
    const header = Buffer.alloc(10);
    header.writeUInt32BE((4 << 20) + 1, 0);
    header.writeUInt32BE(1, 4);
    header[8] = MessageType.Request;
    raw.write(header);
    raw.write(Buffer.alloc((4 << 20) + 1));
    raw.request(3, { service: TASK, method: 'Connect', payload });
    await raw.waitFrames(2);
    expect(raw.response(0).status).toMatchObject({
      code: Code.ResourceExhausted,
      message: 'message length 4194305 exceed maximum message size of 4194304',
    });
    expect(raw.frames[1]?.streamId).toBe(3);
    expect(raw.response(1).status).toBeUndefined();
    raw.destroy();
  });

  it('answers an undecodable Request with InvalidArgument', async () => {
    const raw = await RawPeer.connect(sock);
    raw.write(Buffer.from([0, 0, 0, 2, 0, 0, 0, 1, MessageType.Request, 0, 0xff, 0xff]));
    await raw.waitFrames(1);
    expect(raw.response(0).status?.code).toBe(Code.InvalidArgument);
    expect(raw.response(0).status?.message).toMatch(/^unmarshal request error: /);
    raw.destroy();
  });

  it('answers a call whose peer half-closed, then closes', async () => {
    const raw = await RawPeer.connect(sock);
    raw.request(1, { service: TASK, method: 'Connect', payload }, 0);
    raw.socket.end();
    await raw.closed;
    expect(raw.frames.map((f) => f.streamId)).toEqual([1]);
  });

  it('answers a request whose deadline already passed without running it', async () => {
    const raw = await RawPeer.connect(sock);
    raw.request(1, { service: TASK, method: 'Connect', payload, timeoutNano: -1n });
    await raw.waitFrames(1);
    expect(raw.response(0).status?.code).toBe(Code.DeadlineExceeded);
    raw.destroy();
  });
});

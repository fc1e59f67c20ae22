// The event queue: order kept across failures, retries until delivered, refusals dropped,
// flush; and the ttrpc transport against a server standing in for containerd.
import { fromBinary } from '@bufbuild/protobuf';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskExitSchema, TaskOOMSchema, TaskStartSchema } from '../../../src/gen/containerd/events/task_pb.js';
import { Events, type ForwardRequest } from '../../../src/gen/containerd/services/events/ttrpc/v1/events_pb.js';
import { EventQueue, ttrpcTransport, type Envelope } from '../../../src/shim/events.js';
import { Server } from '../../../src/ttrpc/server.js';
import { Code, TtrpcError } from '../../../src/ttrpc/status.js';

const fast = { minBackoffMs: 1, maxBackoffMs: 4 };

describe('event queue', () => {
  it('delivers in publish order, one at a time', async () => {
    const seen: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const q = new EventQueue(async (e: Envelope) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      seen.push(e.topic);
      inFlight--;
    }, 'ns', fast);
    for (let i = 0; i < 20; i++) q.publish(`/t/${i}`, TaskOOMSchema, { containerId: String(i) });
    expect(await q.flush(5000)).toBe(true);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `/t/${i}`));
    expect(maxInFlight).toBe(1);
  });

  it('retries a failing delivery without letting later events pass it', async () => {
    const seen: string[] = [];
    let failures = 5;
    const q = new EventQueue(async (e) => {
      if (e.topic === '/tasks/start' && failures-- > 0) throw new TtrpcError(Code.Unavailable, 'containerd is restarting');
      seen.push(e.topic);
    }, 'ns', fast);
    q.publish('/tasks/create', TaskOOMSchema, { containerId: 'c' });
    q.publish('/tasks/start', TaskStartSchema, { containerId: 'c', pid: 1 });
    q.publish('/tasks/exit', TaskExitSchema, { containerId: 'c', id: 'c', exitStatus: 3 });
    expect(await q.flush(5000)).toBe(true);
    expect(seen).toEqual(['/tasks/create', '/tasks/start', '/tasks/exit']);
    expect(failures).toBe(-1);
  });

  it('keeps retrying errors that are not ttrpc statuses (a socket that is gone)', async () => {
    let attempts = 0;
    const q = new EventQueue(async () => {
      if (++attempts < 4) throw Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' });
    }, 'ns', fast);
    q.publish('/tasks/oom', TaskOOMSchema, { containerId: 'c' });
    expect(await q.flush(5000)).toBe(true);
    expect(attempts).toBe(4);
  });

  it('drops an event containerd refuses outright and goes on', async () => {
    const seen: string[] = [];
    const q = new EventQueue(async (e) => {
      if (e.topic === '/bad') throw new TtrpcError(Code.InvalidArgument, 'timestamp must be set');
      seen.push(e.topic);
    }, 'ns', fast);
    q.publish('/bad', TaskOOMSchema, { containerId: 'c' });
    q.publish('/tasks/oom', TaskOOMSchema, { containerId: 'c' });
    expect(await q.flush(5000)).toBe(true);
    expect(seen).toEqual(['/tasks/oom']);
  });

  it('reports a flush that times out while containerd is away', async () => {
    const q = new EventQueue(async () => {
      throw new TtrpcError(Code.Unavailable, 'down');
    }, 'ns', fast);
    q.publish('/tasks/oom', TaskOOMSchema, { containerId: 'c' });
    expect(await q.flush(30)).toBe(false);
    expect(q.pending).toBe(1);
  });

  it('wraps each event in an envelope with namespace, publish time and a bare type URL', async () => {
    const got: Envelope[] = [];
    const q = new EventQueue(async (e) => void got.push(e), 'k8s.io', fast);
    const before = Date.now();
    q.publish('/tasks/exit', TaskExitSchema, { containerId: 'c', id: 'e', pid: 7, exitStatus: 137 });
    await q.flush(1000);
    const e = got[0] as Envelope;
    expect(e.namespace).toBe('k8s.io');
    expect(e.topic).toBe('/tasks/exit');
    expect(e.event.typeUrl).toBe('containerd.events.TaskExit');
    expect(Number(e.timestamp.seconds) * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(fromBinary(TaskExitSchema, e.event.value)).toMatchObject({ containerId: 'c', id: 'e', pid: 7, exitStatus: 137 });
  });
});

describe('ttrpc transport', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('forwards through Events.Forward, and keeps events across the server going away and coming back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-events-'));
    dirs.push(dir);
    const sock = path.join(dir, 'containerd.sock.ttrpc');
    const received: string[] = [];
    const serve = async (): Promise<Server> => {
      const s = new Server();
      s.register(Events, {
        forward: (req: ForwardRequest) => {
          received.push(`${req.envelope?.topic} ${fromBinary(TaskOOMSchema, req.envelope?.event?.value ?? new Uint8Array()).containerId}`);
          return {};
        },
      });
      await s.listen(sock);
      return s;
    };
    let server = await serve();
    const q = new EventQueue(ttrpcTransport(sock), 'ns', fast);
    q.publish('/tasks/oom', TaskOOMSchema, { containerId: 'a' });
    expect(await q.flush(5000)).toBe(true);
    server.close();
    await new Promise((r) => setTimeout(r, 20));
    rmSync(sock, { force: true });
    q.publish('/tasks/oom', TaskOOMSchema, { containerId: 'b' });
    q.publish('/tasks/oom', TaskOOMSchema, { containerId: 'c' });
    await new Promise((r) => setTimeout(r, 50));
    expect(q.pending).toBe(2);
    server = await serve();
    expect(await q.flush(5000)).toBe(true);
    server.close();
    expect(received).toEqual(['/tasks/oom a', '/tasks/oom b', '/tasks/oom c']);
  });
});

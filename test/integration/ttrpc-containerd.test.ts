// Our ttrpc client against a real containerd 1.6: publish events through its ttrpc
// Events.Forward, the way a shim does, and see them come out of `ctr events` with the right
// topic and payload. Also checks that containerd's errors reach us with their gRPC codes.

import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { AnySchema, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskExitSchema, TaskOOMSchema } from '../../src/gen/containerd/events/task_pb.js';
import { Events } from '../../src/gen/containerd/services/events/ttrpc/v1/events_pb.js';
import { Client } from '../../src/ttrpc/client.js';
import { Code, TtrpcError } from '../../src/ttrpc/status.js';
import { startContainerd, type PrivateContainerd } from '../helpers/containerd.js';

const NAMESPACE = 'tsrun-test';

/** containerd wants the bare message name as type URL; the type.googleapis.com/ form breaks ctr. */
function event<D extends DescMessage>(schema: D, init: MessageInitShape<D>) {
  return create(AnySchema, { typeUrl: schema.typeName, value: toBinary(schema, create(schema, init)) });
}

let ctd: PrivateContainerd;
let client: Client;
let output = '';
let stopEvents: () => void;

beforeAll(async () => {
  ctd = await startContainerd();
  const events = ctd.spawnCtr(['events']);
  events.stdout?.setEncoding('utf8').on('data', (s: string) => (output += s));
  events.stderr?.setEncoding('utf8').on('data', (s: string) => (output += s));
  stopEvents = () => events.kill('SIGKILL');
  client = new Client(ctd.ttrpcAddress, { timeoutMs: 5000 });
}, 20_000);

afterAll(async () => {
  client?.destroy();
  stopEvents?.();
  await ctd?.stop();
}, 20_000);

/** Publishes until `ctr events` shows a line containing every needle (ctr subscribes asynchronously). */
async function publishUntilSeen(publish: () => Promise<unknown>, needles: string[]): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    await publish();
    await new Promise((r) => setTimeout(r, 200));
    const line = output.split('\n').find((l) => needles.every((n) => l.includes(n)));
    if (line) return line;
  }
  throw new Error(`ctr events never showed ${JSON.stringify(needles)}; it printed:\n${output}\ncontainerd log:\n${ctd.log()}`);
}

describe('ttrpc client against containerd 1.6', () => {
  it('publishes a TaskOOM through Events.Forward and ctr events shows topic and payload', async () => {
    const id = `oom-${randomBytes(6).toString('hex')}`;
    const line = await publishUntilSeen(
      () =>
        client.unary(Events.method.forward, {
          envelope: { timestamp: timestampFromDate(new Date()), namespace: NAMESPACE, topic: '/tasks/oom', event: event(TaskOOMSchema, { containerId: id }) },
        }),
      [` ${NAMESPACE} /tasks/oom `, `"container_id":"${id}"`],
    );
    expect(line).toMatch(new RegExp(`^\\S+ \\S+ \\S+ \\S+ ${NAMESPACE} /tasks/oom \\{"container_id":"${id}"\\}$`));
  });

  it('publishes a TaskExit whose fields, timestamp included, survive the trip', async () => {
    const id = `exit-${randomBytes(6).toString('hex')}`;
    const exitedAt = new Date('2024-05-06T07:08:09.123Z');
    const line = await publishUntilSeen(
      () =>
        client.unary(Events.method.forward, {
          envelope: {
            timestamp: timestampFromDate(new Date()),
            namespace: NAMESPACE,
            topic: '/tasks/exit',
            event: event(TaskExitSchema, { containerId: id, id: 'exec1', pid: 4242, exitStatus: 137, exitedAt: timestampFromDate(exitedAt) }),
          },
        }),
      [` ${NAMESPACE} /tasks/exit `, `"container_id":"${id}"`],
    );
    expect(line).toContain('"id":"exec1"');
    expect(line).toContain('"pid":4242');
    expect(line).toContain('"exit_status":137');
    expect(line).toContain('"exited_at":"2024-05-06T07:08:09.123Z"');
  });

  it('gets containerd errors with their codes: InvalidArgument for a bad envelope, Unimplemented for an unknown method', async () => {
    let err: unknown;
    try {
      await client.unary(Events.method.forward, { envelope: { namespace: NAMESPACE, topic: '/tasks/oom', event: event(TaskOOMSchema, { containerId: 'x' }) } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TtrpcError);
    expect((err as TtrpcError).code).toBe(Code.InvalidArgument);
    expect((err as TtrpcError).message).toContain('timestamp must be set');

    const missing = await client.call(Events.typeName, 'Teleport', new Uint8Array()).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: Code.Unimplemented, message: 'method Teleport' });
    const service = await client.call('no.such.Service', 'X', new Uint8Array()).catch((e: unknown) => e);
    expect(service).toMatchObject({ code: Code.Unimplemented, message: 'service no.such.Service' });
  });
});

// Task events to containerd: one FIFO queue, sent one at a time and in order, each retried
// until containerd takes it. containerd's own publisher gives up after a few tries and
// may reorder; a restarting containerd must not cost us an exit event, so we do neither.
// Only an event containerd refuses outright (a malformed envelope) is dropped.
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { AnySchema, timestampFromDate, type Any, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { ChildProcess } from 'node:child_process';
import { Events } from '../gen/containerd/services/events/ttrpc/v1/events_pb.js';
import { Internal, messageOf } from '../errors.js';
import { logger } from '../log.js';
import { childProcess } from '../native/index.js';
import { Client } from '../ttrpc/client.js';
import { Code, TtrpcError } from '../ttrpc/status.js';

export interface Envelope {
  timestamp: Timestamp;
  namespace: string;
  topic: string;
  event: Any;
}

/** Delivers one envelope; throws when it could not. */
export type Transport = (envelope: Envelope) => Promise<void>;

export interface EventSink {
  publish<D extends DescMessage>(topic: string, schema: D, message: MessageInitShape<D>): void;
}

/** Codes after which sending the same envelope again cannot succeed. */
const FINAL_CODES = new Set<number>([Code.InvalidArgument, Code.NotFound, Code.AlreadyExists, Code.PermissionDenied, Code.Unimplemented]);

export interface QueueOptions {
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class EventQueue implements EventSink {
  readonly #queue: Envelope[] = [];
  readonly #idle: Array<() => void> = [];
  #pumping = false;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;

  constructor(
    private readonly transport: Transport,
    private readonly namespace: string,
    options: QueueOptions = {},
  ) {
    this.#minBackoff = options.minBackoffMs ?? 50;
    this.#maxBackoff = options.maxBackoffMs ?? 2000;
  }

  /** Events waiting to be delivered. */
  get pending(): number {
    return this.#queue.length;
  }

  publish<D extends DescMessage>(topic: string, schema: D, message: MessageInitShape<D>): void {
    // containerd wants the bare message name as type URL: subscribers cannot read the
    // type.googleapis.com/ form.
    const event = create(AnySchema, { typeUrl: schema.typeName, value: toBinary(schema, create(schema, message)) });
    this.#queue.push({ timestamp: timestampFromDate(new Date()), namespace: this.namespace, topic, event });
    void this.#pump();
  }

  /** Resolves true once every queued event is delivered, false if ms pass first. */
  flush(ms: number): Promise<boolean> {
    if (this.#queue.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.#idle.indexOf(done);
        if (i >= 0) this.#idle.splice(i, 1);
        resolve(false);
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idle.push(done);
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    let backoff = this.#minBackoff;
    try {
      while (this.#queue.length > 0) {
        const envelope = this.#queue[0] as Envelope;
        try {
          await this.transport(envelope);
          this.#queue.shift();
          backoff = this.#minBackoff;
        } catch (err) {
          if (err instanceof TtrpcError && FINAL_CODES.has(err.code)) {
            logger.error(`dropping event ${envelope.topic}: containerd refused it: ${err.message}`);
            this.#queue.shift();
            continue;
          }
          logger.debug(`publish ${envelope.topic}: ${messageOf(err)}; retrying in ${backoff} ms`);
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, this.#maxBackoff);
        }
      }
    } finally {
      this.#pumping = false;
    }
    for (const done of this.#idle.splice(0)) done();
  }
}

const FORWARD_TIMEOUT_MS = 5000;

/** containerd's Events.Forward over ttrpc at TTRPC_ADDRESS (containerd 1.3 and later). */
export function ttrpcTransport(address: string): Transport {
  const client = new Client(address, { connectTimeoutMs: FORWARD_TIMEOUT_MS });
  return async (envelope) => {
    await client.unary(Events.method.forward, { envelope }, { timeoutMs: FORWARD_TIMEOUT_MS });
  };
}

/**
 * The old way, for a containerd that sets no TTRPC_ADDRESS: `<publish-binary> --address
 * <address> publish --topic <topic> --namespace <ns>` with the event Any on stdin.
 */
export function publishBinaryTransport(binary: string, address: string, onSpawn: (child: ChildProcess) => void): Transport {
  return (envelope) =>
    new Promise((resolve, reject) => {
      const child = childProcess().spawn(binary, ['--address', address, 'publish', '--topic', envelope.topic, '--namespace', envelope.namespace], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      onSpawn(child);
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Internal(`${binary} publish: exit ${code}: ${stderr.trim()}`))));
      child.stdin.on('error', () => undefined);
      child.stdin.end(toBinary(AnySchema, envelope.event));
    });
}

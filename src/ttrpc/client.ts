// ttrpc client over a unix socket. Calls are multiplexed on one connection by stream id (odd,
// from 1, up by 2, so ids on the wire only increase) and answered in any order. The connection
// is dialled on first use and again after it drops: calls in flight when it drops fail with
// Unavailable, the next call reconnects. That is the reconnect a shim needs when containerd
// restarts; retrying a call is the caller's decision, because only it knows whether the call
// may run twice.

import { create, fromBinary, toBinary, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import net from 'node:net';
import { RequestSchema, ResponseSchema, type Response } from '../gen/ttrpc/request_pb.js';
import { FrameReader, MAX_DATA_LENGTH, MessageType, encodeFrame, oversizeError, type Frame, type FrameHeader, type FrameSink } from './frame.js';
import type { Metadata } from './metadata.js';
import { decodePayload } from './service.js';
import { Code, TtrpcError } from './status.js';

export interface ClientOptions {
  /** How long a dial may take. */
  connectTimeoutMs?: number;
  /** Deadline for calls that set none; 0 means calls wait as long as the connection lives. */
  timeoutMs?: number;
}

export interface CallOptions {
  /** Sent as timeout_nano, so the server can give up too; the call fails with DeadlineExceeded. */
  timeoutMs?: number;
  signal?: AbortSignal;
  metadata?: Metadata;
}

/** Stream ids are uint32; a connection that has used them all is retired for a fresh one. */
const MAX_STREAM_ID = 0xffff_ffff;

export class Client {
  readonly path: string;
  readonly #options: Required<ClientOptions>;
  #conn: ClientConnection | undefined;
  #dialing: Promise<ClientConnection> | undefined;
  #closed = false;

  constructor(path: string, options: ClientOptions = {}) {
    // TTRPC_ADDRESS is a plain path, but accept the unix:// form containerd uses for shims.
    this.path = path.startsWith('unix://') ? path.slice('unix://'.length) : path;
    this.#options = { connectTimeoutMs: options.connectTimeoutMs ?? 5000, timeoutMs: options.timeoutMs ?? 0 };
  }

  static async connect(path: string, options?: ClientOptions): Promise<Client> {
    const client = new Client(path, options);
    await client.connect();
    return client;
  }

  /** Dials now if not connected; calls do this on their own. */
  async connect(): Promise<void> {
    await this.#connection(Date.now() + this.#options.connectTimeoutMs);
  }

  get connected(): boolean {
    return this.#conn?.alive ?? false;
  }

  /** Calls `service`/`method` with an encoded request; resolves to the encoded response. */
  async call(service: string, method: string, payload: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.#closed) throw new TtrpcError(Code.Unavailable, 'ttrpc: client closed');
    if (options.signal?.aborted) throw new TtrpcError(Code.Canceled, 'context canceled');
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
    const dialDeadline = Math.min(deadline ?? Infinity, Date.now() + this.#options.connectTimeoutMs);
    const conn = await this.#connection(dialDeadline);
    const request = create(RequestSchema, {
      service,
      method,
      payload,
      timeoutNano: deadline === undefined ? 0n : BigInt(Math.max(1, deadline - Date.now())) * 1_000_000n,
      metadata: options.metadata?.toKeyValues() ?? [],
    });
    return conn.call(toBinary(RequestSchema, request), deadline, options.signal);
  }

  /** A typed call through a generated method descriptor, e.g. `Events.method.forward`. */
  async unary<M extends DescMethod & { input: DescMessage; output: DescMessage }>(
    method: M,
    request: MessageInitShape<M['input']>,
    options?: CallOptions,
  ): Promise<MessageShape<M['output']>> {
    const payload = toBinary(method.input, create(method.input, request));
    const answer = await this.call(method.parent.typeName, method.name, payload, options);
    return decodePayload(method.output, answer, 'ttrpc: error unmarshalling response') as MessageShape<M['output']>;
  }

  /** Refuses new calls, waits for those in flight to be answered, then closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const dialing = this.#dialing;
    if (dialing) await dialing.catch(() => {});
    await this.#conn?.closeWhenIdle();
  }

  /** Closes the connection now; calls in flight fail with Unavailable. */
  destroy(): void {
    this.#closed = true;
    this.#conn?.destroy();
  }

  async #connection(deadline: number): Promise<ClientConnection> {
    if (this.#closed) throw new TtrpcError(Code.Unavailable, 'ttrpc: client closed');
    const current = this.#conn;
    if (current?.alive && !current.exhausted) return current;
    if (current?.exhausted) void current.closeWhenIdle();
    this.#dialing ??= dial(this.path, Math.max(0, deadline - Date.now())).then(
      (socket) => {
        this.#dialing = undefined;
        const conn = new ClientConnection(socket);
        if (this.#closed) conn.destroy();
        else this.#conn = conn;
        return conn;
      },
      (err: unknown) => {
        this.#dialing = undefined;
        throw err;
      },
    );
    return this.#dialing;
  }
}

function dial(path: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TtrpcError(Code.Unavailable, `ttrpc: dial ${path}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    // The error listener stays on: after a connect it is a no-op, and it covers the moment
    // before the connection attaches its own.
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new TtrpcError(Code.Unavailable, `ttrpc: dial ${path}: ${err.message}`, [], { cause: err }));
    });
  });
}

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: TtrpcError): void;
}

class ClientConnection implements FrameSink {
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader();
  readonly #pending = new Map<number, Pending>();
  readonly #closed: Promise<void>;
  #nextId = 1;
  #alive = true;
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk, this));
    // The server closing its side ends the conversation: nothing more will be answered.
    socket.on('end', () => socket.destroy());
    socket.on('error', () => {});
    socket.once('close', () => {
      this.#alive = false;
      this.#failAll(new TtrpcError(Code.Unavailable, 'ttrpc: connection closed'));
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  get exhausted(): boolean {
    return this.#nextId > MAX_STREAM_ID;
  }

  call(request: Uint8Array, deadline: number | undefined, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (request.length > MAX_DATA_LENGTH) return Promise.reject(oversizeError(request.length));
    if (!this.#alive) return Promise.reject(new TtrpcError(Code.Unavailable, 'ttrpc: connection closed'));
    const id = this.#nextId;
    this.#nextId += 2;
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => settle(new TtrpcError(Code.Canceled, 'context canceled'));
      const settle = (result: Uint8Array | TtrpcError): void => {
        if (this.#pending.get(id) !== pending) return;
        this.#pending.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (result instanceof TtrpcError) reject(result);
        else resolve(result);
        if (this.#pending.size === 0) this.#idle?.resolve();
      };
      const pending: Pending = { resolve: settle, reject: settle };
      this.#pending.set(id, pending);
      if (deadline !== undefined) {
        timer = setTimeout(
          () => settle(new TtrpcError(Code.DeadlineExceeded, 'context deadline exceeded')),
          Math.max(0, deadline - Date.now()),
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#socket.write(encodeFrame(id, MessageType.Request, 0, request));
    });
  }

  frame(frame: Frame): void {
    const pending = this.#pending.get(frame.streamId);
    if (!pending) return; // late answer to a call that timed out or was cancelled
    if (frame.type === MessageType.Data) {
      pending.reject(new TtrpcError(Code.Internal, 'ttrpc: unexpected data frame on a unary stream'));
    } else if (frame.type === MessageType.Response) {
      let response: Response;
      try {
        response = fromBinary(ResponseSchema, frame.data);
      } catch (err) {
        pending.reject(new TtrpcError(Code.Internal, `ttrpc: error unmarshalling response: ${(err as Error).message}`));
        return;
      }
      if (response.status && response.status.code !== Code.OK) pending.reject(TtrpcError.fromStatus(response.status));
      else pending.resolve(response.payload);
    }
  }

  oversize(header: FrameHeader): void {
    this.#pending.get(header.streamId)?.reject(oversizeError(header.length));
  }

  async closeWhenIdle(): Promise<void> {
    if (this.#pending.size > 0) {
      if (!this.#idle) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        this.#idle = { promise, resolve };
      }
      await this.#idle.promise;
    }
    this.#socket.end();
    await this.#closed;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #failAll(err: TtrpcError): void {
    for (const pending of [...this.#pending.values()]) pending.reject(err);
  }
}

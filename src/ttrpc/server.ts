// ttrpc server: accepts connections, runs each Request's handler concurrently and answers each
// stream exactly once, in whatever order handlers finish (the client matches by stream id).
//
// What a misbehaving peer gets, per frame, with the connection kept (as Go's ttrpc does):
//   even stream id                  InvalidArgument "StreamID must be odd for client initiated streams"
//   request id not above the last   InvalidArgument "StreamID cannot be re-used and must increment"
//   data longer than 4 MiB          ResourceExhausted, data skipped without being buffered
//   undecodable Request             InvalidArgument "unmarshal request error: ..."
//   unknown service or method       Unimplemented "service <name>" / "method <name>"
//   undecodable payload             Internal "ttrpc: error unmarshalling payload: ..."
//   Request flagged remote-open     Unimplemented: we serve no streaming methods (ttrpc >= 1.2)
//   Data frame                      InvalidArgument; an in-flight call on that stream is cancelled
//   Response or unknown type        ignored, for compatibility with later protocol versions
// Memory per connection is bounded: we stop reading while too many calls are in flight or
// while the peer leaves too many answers unread.

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { RequestSchema, ResponseSchema, type Request, type Response } from '../gen/ttrpc/request_pb.js';
import { FrameReader, Flags, MAX_DATA_LENGTH, MessageType, encodeFrame, oversizeError, type Frame, type FrameHeader, type FrameSink } from './frame.js';
import { Metadata } from './metadata.js';
import { ServiceRegistry, type CallContext, type RawHandler, type ServiceImpl } from './service.js';
import { Code, TtrpcError, toTtrpcError } from './status.js';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';

export interface ServerOptions {
  /** Calls one connection may have running before we stop reading from it. */
  maxInflightPerConnection?: number;
  /** Bytes of unread answers a connection may queue before we stop reading from it. */
  maxQueuedBytesPerConnection?: number;
  /** What no caller can be told: handlers failing after their stream was answered, socket errors. */
  onError?: (err: Error) => void;
}

interface Closable {
  close(): void;
}

/** Node's timers overflow past 2^31-1 ms and would fire at once; a longer timeout means none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Server {
  readonly registry = new ServiceRegistry();
  readonly #options: Required<ServerOptions>;
  readonly #listeners = new Set<Closable>();
  readonly #connections = new Set<ServerConnection>();
  #closing = false;

  constructor(options: ServerOptions = {}) {
    this.#options = {
      maxInflightPerConnection: options.maxInflightPerConnection ?? 1024,
      maxQueuedBytesPerConnection: options.maxQueuedBytesPerConnection ?? 16 << 20,
      onError: options.onError ?? (() => {}),
    };
  }

  register<M extends GenServiceMethods>(service: GenService<M>, impl: ServiceImpl<M>): this {
    this.registry.register(service, impl);
    return this;
  }

  registerRaw(service: string, method: string, handler: RawHandler): this {
    this.registry.registerRaw(service, method, handler);
    return this;
  }

  /** Listens on a unix socket path (or any net.ListenOptions, e.g. an inherited `{ fd: 3 }`). */
  listen(where: string | net.ListenOptions): Promise<net.Server> {
    const listener = net.createServer({ allowHalfOpen: true });
    this.serve(listener);
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      const ready = (): void => {
        listener.off('error', reject);
        listener.on('error', (err) => this.#options.onError(err));
        resolve(listener);
      };
      if (typeof where === 'string') listener.listen(where, ready);
      else listener.listen(where, ready);
    });
  }

  /** Serves the connections of a listener created elsewhere (created with allowHalfOpen: true). */
  serve(listener: net.Server): void {
    this.#listeners.add(listener);
    listener.on('connection', (socket: net.Socket) => this.handle(socket));
    listener.once('close', () => this.#listeners.delete(listener));
  }

  /** Closes listener along with the server (shutdown, close): a listener that accepts
   *  elsewhere and passes its connections to handle(). */
  closeWith(listener: Closable): void {
    this.#listeners.add(listener);
  }

  /** Serves one already connected socket, or any Duplex that carries a connection's bytes
   *  (made with allowHalfOpen: 'end' is the peer's EOF, end() our side's). */
  handle(socket: Duplex): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(socket, this.registry, this.#options, () => this.#closing);
    this.#connections.add(conn);
    conn.closed.then(() => this.#connections.delete(conn), () => {});
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  get inflightCount(): number {
    let n = 0;
    for (const conn of this.#connections) n += conn.inflight;
    return n;
  }

  /**
   * Stops accepting, answers new requests with Unavailable, lets running calls finish and
   * answer, then closes every connection. Race it with a timer and call close() to bound it.
   */
  async shutdown(): Promise<void> {
    this.#closing = true;
    for (const listener of this.#listeners) listener.close();
    const closing = [...this.#connections].map((conn) => {
      conn.drain();
      return conn.closed;
    });
    await Promise.all(closing);
  }

  /** Closes everything now; running handlers see their signal aborted. */
  close(): void {
    this.#closing = true;
    for (const listener of this.#listeners) listener.close();
    for (const conn of this.#connections) conn.destroy();
  }
}

interface Call {
  readonly abort: AbortController;
  readonly timer: NodeJS.Timeout | undefined;
}

class ServerConnection implements FrameSink {
  readonly closed: Promise<void>;
  readonly #socket: Duplex;
  readonly #registry: ServiceRegistry;
  readonly #options: Required<ServerOptions>;
  readonly #serverClosing: () => boolean;
  readonly #reader = new FrameReader();
  readonly #calls = new Map<number, Call>();
  // Frames read while the connection is busy. The socket is paused then, so this holds at most
  // what was left of one chunk.
  readonly #backlog: Frame[] = [];
  #lastStreamId = 0;
  #peerEnded = false;
  #draining = false;

  constructor(socket: Duplex, registry: ServiceRegistry, options: Required<ServerOptions>, serverClosing: () => boolean) {
    this.#socket = socket;
    this.#registry = registry;
    this.#options = options;
    this.#serverClosing = serverClosing;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk, this));
    socket.on('end', () => {
      this.#peerEnded = true;
      this.#finishIfIdle();
    });
    socket.on('drain', () => this.#settle());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.#options.onError(err);
    });
    socket.once('close', () => this.#cancelAll());
  }

  get inflight(): number {
    return this.#calls.size;
  }

  drain(): void {
    this.#draining = true;
    this.#finishIfIdle();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  oversize(header: FrameHeader): void {
    this.#answer(header.streamId, oversizeError(header.length));
  }

  frame(frame: Frame): void {
    if (this.#backlog.length > 0 || this.#busy()) {
      this.#backlog.push(frame);
      this.#socket.pause();
      return;
    }
    this.#dispatch(frame);
  }

  #dispatch(frame: Frame): void {
    if (frame.streamId % 2 !== 1) {
      this.#answer(frame.streamId, invalid('StreamID must be odd for client initiated streams'));
    } else if (frame.type === MessageType.Request) {
      this.#request(frame);
    } else if (frame.type === MessageType.Data) {
      const call = this.#calls.get(frame.streamId);
      const err = invalid(call ? 'data frames are not accepted on a unary stream' : 'StreamID is no longer active');
      if (call && this.#take(frame.streamId, call)) call.abort.abort(err);
      this.#answer(frame.streamId, err);
      if (call) this.#settle();
    }
  }

  #request(frame: Frame): void {
    const id = frame.streamId;
    if (id <= this.#lastStreamId) {
      this.#answer(id, invalid('StreamID cannot be re-used and must increment'));
      return;
    }
    this.#lastStreamId = id;
    let req: Request;
    try {
      req = fromBinary(RequestSchema, frame.data);
    } catch (err) {
      this.#answer(id, invalid(`unmarshal request error: ${(err as Error).message}`));
      return;
    }
    const handler = this.#registry.lookup(req.service, req.method);
    if (handler instanceof TtrpcError) {
      this.#answer(id, handler);
    } else if (frame.flags & Flags.RemoteOpen) {
      this.#answer(id, new TtrpcError(Code.Unimplemented, `method ${req.method} does not accept streamed requests`));
    } else if (this.#draining || this.#serverClosing()) {
      this.#answer(id, new TtrpcError(Code.Unavailable, 'ttrpc: server closed'));
    } else if (req.timeoutNano < 0n) {
      this.#answer(id, new TtrpcError(Code.DeadlineExceeded, 'context deadline exceeded'));
    } else {
      this.#run(id, req, handler);
    }
  }

  #run(id: number, req: Request, handler: RawHandler): void {
    const abort = new AbortController();
    const timeoutMs = Math.ceil(Number(req.timeoutNano) / 1e6);
    const timer =
      timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS
        ? setTimeout(() => {
            if (!this.#take(id, call)) return;
            const err = new TtrpcError(Code.DeadlineExceeded, 'context deadline exceeded');
            abort.abort(err);
            this.#answer(id, err);
            this.#settle();
          }, timeoutMs)
        : undefined;
    const call: Call = { abort, timer };
    this.#calls.set(id, call);

    const ctx: CallContext = {
      service: req.service,
      method: req.method,
      metadata: Metadata.fromKeyValues(req.metadata),
      signal: abort.signal,
      deadline: timer ? Date.now() + timeoutMs : undefined,
    };
    // A handler may throw synchronously; starting from a resolved promise catches that too.
    Promise.resolve()
      .then(() => handler(req.payload, ctx))
      .then(
        (payload) => {
          if (!this.#take(id, call)) return;
          this.#send(id, create(ResponseSchema, { payload }));
          this.#settle();
        },
        (err: unknown) => {
          if (this.#take(id, call)) {
            this.#answer(id, toTtrpcError(err));
            this.#settle();
          } else if (!abort.signal.aborted) {
            this.#options.onError(toTtrpcError(err));
          }
        },
      );
  }

  /** Removes a call that is still ours to answer; false if it was answered or cancelled already. */
  #take(id: number, call: Call): boolean {
    if (this.#calls.get(id) !== call) return false;
    this.#calls.delete(id);
    clearTimeout(call.timer);
    return true;
  }

  #answer(id: number, err: TtrpcError): void {
    this.#send(id, create(ResponseSchema, { status: err.toStatus() }));
  }

  #send(id: number, response: Response): void {
    if (!this.#socket.writable) return;
    let data = toBinary(ResponseSchema, response);
    // A handler's answer over 4 MiB must not go out; its caller still gets one answer.
    if (data.length > MAX_DATA_LENGTH) {
      data = toBinary(ResponseSchema, create(ResponseSchema, { status: oversizeError(data.length).toStatus() }));
    }
    this.#socket.write(encodeFrame(id, MessageType.Response, 0, data));
  }

  #busy(): boolean {
    return (
      this.#calls.size >= this.#options.maxInflightPerConnection ||
      this.#socket.writableLength >= this.#options.maxQueuedBytesPerConnection
    );
  }

  /** After a call ends or the peer reads: take up held frames, read again, or finish. */
  #settle(): void {
    while (this.#backlog.length > 0 && !this.#busy()) this.#dispatch(this.#backlog.shift() as Frame);
    if (this.#backlog.length === 0 && !this.#busy() && this.#socket.isPaused()) this.#socket.resume();
    this.#finishIfIdle();
  }

  #finishIfIdle(): void {
    const idle = this.#calls.size === 0 && this.#backlog.length === 0;
    if ((this.#peerEnded || this.#draining) && idle) this.#endSoon();
  }

  /** net.Socket's destroySoon for any Duplex: our side ends once written, then it goes. */
  #endSoon(): void {
    const s = this.#socket;
    if (s.writableFinished) {
      s.destroy();
      return;
    }
    s.once('finish', () => s.destroy());
    if (!s.writableEnded) s.end();
  }

  #cancelAll(): void {
    const reason = new TtrpcError(Code.Canceled, 'ttrpc: connection closed');
    this.#backlog.length = 0;
    for (const [id, call] of this.#calls) {
      this.#calls.delete(id);
      clearTimeout(call.timer);
      call.abort.abort(reason);
    }
  }
}

function invalid(message: string): TtrpcError {
  return new TtrpcError(Code.InvalidArgument, message);
}

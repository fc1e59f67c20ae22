// The server's registry: service name -> method name -> how to decode the request, run the
// handler and encode the answer. Names are the protobuf ones ("containerd.task.v2.Task",
// "Create"), because that is what the Request envelope carries.

import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescService } from '@bufbuild/protobuf';
import type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { Metadata } from './metadata.js';
import { Code, TtrpcError } from './status.js';

export interface CallContext {
  readonly service: string;
  readonly method: string;
  readonly metadata: Metadata;
  /** Aborted when the request's timeout_nano passes, the connection drops or the server closes. */
  readonly signal: AbortSignal;
  /** Absolute time (Date.now() scale) the caller stops waiting, if it set a deadline. */
  readonly deadline: number | undefined;
}

/** One method, payload bytes in and out. Throws TtrpcError (or anything: it becomes Unknown). */
export type RawHandler = (payload: Uint8Array, ctx: CallContext) => Promise<Uint8Array> | Uint8Array;

type UnaryMethods<M extends GenServiceMethods> = {
  [K in keyof M as M[K]['methodKind'] extends 'unary' ? K : never]: M[K];
};

/**
 * Handlers for a generated service, keyed by the method's local name (`create`, `kill`).
 * Methods left out answer Unimplemented, which is what containerd expects for unsupported RPCs.
 */
export type ServiceImpl<M extends GenServiceMethods> = {
  [K in keyof UnaryMethods<M>]?: (
    request: MessageShape<M[K]['input']>,
    ctx: CallContext,
  ) => Promise<MessageInitShape<M[K]['output']>> | MessageInitShape<M[K]['output']>;
};

export class ServiceRegistry {
  readonly #services = new Map<string, Map<string, RawHandler>>();

  registerRaw(service: string, method: string, handler: RawHandler): void {
    let methods = this.#services.get(service);
    if (!methods) {
      methods = new Map();
      this.#services.set(service, methods);
    }
    if (methods.has(method)) throw new TtrpcError(Code.AlreadyExists, `ttrpc: method ${service}/${method} registered twice`);
    methods.set(method, handler);
  }

  /**
   * Registers the unary methods of a generated service. Streaming methods are never registered,
   * so a client asking for one gets Unimplemented.
   */
  register<M extends GenServiceMethods>(service: GenService<M>, impl: ServiceImpl<M>): void {
    const handlers = impl as Record<string, ((req: unknown, ctx: CallContext) => unknown) | undefined>;
    for (const method of (service as DescService).methods) {
      const handler = handlers[method.localName];
      if (method.methodKind !== 'unary' || handler === undefined) continue;
      this.registerRaw(service.typeName, method.name, unaryHandler(method, handler));
    }
  }

  /** The handler, or the Unimplemented error Go's ttrpc gives for an unknown name. */
  lookup(service: string, method: string): RawHandler | TtrpcError {
    const methods = this.#services.get(service);
    if (!methods) return new TtrpcError(Code.Unimplemented, `service ${service}`);
    return methods.get(method) ?? new TtrpcError(Code.Unimplemented, `method ${method}`);
  }
}

function unaryHandler(method: DescMethod, handler: (req: unknown, ctx: CallContext) => unknown): RawHandler {
  return async (payload, ctx) => {
    const request = decodePayload(method.input, payload, 'ttrpc: error unmarshalling payload');
    const response = await handler(request, ctx);
    return toBinary(method.output, create(method.output, response as MessageInitShape<DescMessage>));
  };
}

/** fromBinary, with a decode failure turned into the Internal status Go's ttrpc uses for it. */
export function decodePayload<D extends DescMessage>(schema: D, payload: Uint8Array, what: string): MessageShape<D> {
  try {
    return fromBinary(schema, payload);
  } catch (err) {
    throw new TtrpcError(Code.Internal, `${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

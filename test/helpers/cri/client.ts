// A CRI client for tests: @grpc/grpc-js over containerd's unix socket, with the messages
// generated from ./proto (runtime.v1, cri-api's wire). Each unary method of a generated service
// becomes an async function taking the request's init shape and returning the response
// message, so a test reads like kubelet's calls:
//   const { podSandboxId } = await cri.runtime.runPodSandbox({ config, runtimeHandler: 'ts' });
import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';
import { ImageService, RuntimeService } from './gen/runtime/v1/api_pb.js';

type Unary<M extends GenServiceMethods> = {
  [K in keyof M]: (request: MessageInitShape<M[K]['input']>, options?: { timeoutMs?: number }) => Promise<MessageShape<M[K]['output']>>;
};

export interface CriClient {
  runtime: Unary<typeof RuntimeService extends GenService<infer M> ? M : never>;
  image: Unary<typeof ImageService extends GenService<infer M> ? M : never>;
  close(): void;
}

/** The grpc-js service definition of a generated service: paths and (de)serializers from its descriptors. */
function definition(service: DescService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>>> = {};
  for (const method of service.methods) {
    if (method.methodKind !== 'unary') continue; // the tests call no streaming method
    const input: DescMessage = method.input;
    const output: DescMessage = method.output;
    def[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(input, m)),
      requestDeserialize: (b: Buffer) => fromBinary(input, b),
      responseSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(output, b),
    };
  }
  return def as grpc.ServiceDefinition;
}

function bind<M extends GenServiceMethods>(service: GenService<M>, address: string, defaultTimeoutMs: number): { calls: Unary<M>; client: grpc.Client } {
  const Ctor = grpc.makeGenericClientConstructor(definition(service), service.name);
  // containerd's gRPC server takes at most 16 MiB per message; so do we.
  const client = new Ctor(`unix://${address}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 16 << 20,
    'grpc.max_send_message_length': 16 << 20,
  });
  const calls: Record<string, unknown> = {};
  for (const method of service.methods) {
    if (method.methodKind !== 'unary') continue;
    const rpc = (client as unknown as Record<string, ((...a: unknown[]) => grpc.ClientUnaryCall) | undefined>)[method.localName];
    if (rpc === undefined) throw new Error(`grpc-js made no method ${method.localName}`);
    calls[method.localName] = (request: MessageInitShape<DescMessage>, options: { timeoutMs?: number } = {}) =>
      new Promise((resolve, reject) => {
        const deadline = new Date(Date.now() + (options.timeoutMs ?? defaultTimeoutMs));
        rpc.call(client, create(method.input, request), new grpc.Metadata(), { deadline }, (err: grpc.ServiceError | null, reply: unknown) => {
          if (err) reject(new CriError(method.name, err));
          else resolve(reply);
        });
      });
  }
  return { calls: calls as Unary<M>, client };
}

/** A failed CRI call: the method, the gRPC status code and containerd's message. */
export class CriError extends Error {
  readonly code: grpc.status;
  constructor(
    readonly method: string,
    cause: grpc.ServiceError,
  ) {
    super(`${method}: ${grpc.status[cause.code] ?? cause.code}: ${cause.details}`);
    this.code = cause.code;
  }
}

/** A client on containerd's gRPC socket (a path); calls time out after defaultTimeoutMs unless told otherwise. */
export function criClient(address: string, defaultTimeoutMs = 60_000): CriClient {
  const runtime = bind(RuntimeService, address, defaultTimeoutMs);
  const image = bind(ImageService, address, defaultTimeoutMs);
  return {
    runtime: runtime.calls,
    image: image.calls,
    close: () => {
      runtime.client.close();
      image.client.close();
    },
  };
}

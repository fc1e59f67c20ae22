// gRPC status codes and the one error type of this package. ttrpc carries errors as a
// google.rpc.Status in the Response; the numbers are gRPC's, because containerd's errdefs read
// them with gRPC's table.

import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { StatusSchema, type Status } from '../gen/google/rpc/status_pb.js';

export const Code = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

export type Code = (typeof Code)[keyof typeof Code];

const codeNames = new Map<number, string>(Object.entries(Code).map(([name, code]) => [code, name]));

/** "NotFound" for 5; "Code(42)" for a number gRPC does not define. */
export function codeName(code: number): string {
  return codeNames.get(code) ?? `Code(${code})`;
}

export class TtrpcError extends Error {
  /** Usually one of `Code`, but a peer may send any int32 and we pass it on unchanged. */
  readonly code: number;
  readonly details: Any[];

  constructor(code: number, message: string, details: Any[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'TtrpcError';
    this.code = code;
    this.details = details;
  }

  static fromStatus(status: Status): TtrpcError {
    return new TtrpcError(status.code, status.message, status.details);
  }

  toStatus(): Status {
    return create(StatusSchema, { code: this.code, message: this.message, details: this.details });
  }
}

/** The error a server answers with when a handler throws something that is not a TtrpcError. */
export function toTtrpcError(err: unknown): TtrpcError {
  if (err instanceof TtrpcError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TtrpcError(Code.Unknown, message, [], { cause: err });
}

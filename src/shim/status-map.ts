// The one place where our error kinds become ttrpc status codes and back. containerd reads the
// code with errdefs (FromGRPC in 1.6/1.7, errgrpc.ToNative in 2.x): NotFound, AlreadyExists,
// FailedPrecondition, InvalidArgument and Unimplemented change what it does next (a Kill of a
// finished process is fine when it is NotFound, an Unimplemented Create makes 2.1+ retry on
// task API v2). Anything unclassified is Unknown, as errgrpc does.

import {
  AlreadyExists,
  FailedPrecondition,
  Internal,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  Timeout,
  TsrunError,
  Unavailable,
  Unimplemented,
  type ErrorKind,
} from '../errors.js';
import { Code, TtrpcError } from '../ttrpc/status.js';

const codeOfKind: Record<ErrorKind, Code> = {
  InvalidArgument: Code.InvalidArgument,
  NotFound: Code.NotFound,
  AlreadyExists: Code.AlreadyExists,
  PermissionDenied: Code.PermissionDenied,
  FailedPrecondition: Code.FailedPrecondition,
  Unimplemented: Code.Unimplemented,
  Internal: Code.Internal,
  Unavailable: Code.Unavailable,
  // containerd reads it as errdefs.ErrDeadlineExceeded (a freeze that did not take, a kill
  // that did not end the init).
  Timeout: Code.DeadlineExceeded,
  // As runc's shim answers a failed `runc create`: Unknown, the message naming the hook.
  HookFailed: Code.Unknown,
  SystemError: Code.Unknown,
};

/** What a shim handler's failure is answered with. A TtrpcError keeps its own code. */
export function toStatusError(err: unknown): TtrpcError {
  if (err instanceof TtrpcError) return err;
  if (err instanceof TsrunError) {
    return new TtrpcError(codeOfKind[err.kind], err.message, [], { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TtrpcError(Code.Unknown, message, [], { cause: err });
}

// The text containerd appends for each class; it strips it before wrapping again, and so do we,
// so that a message does not read "...: not found" twice after a round trip.
const classText: Partial<Record<number, string>> = {
  [Code.InvalidArgument]: 'invalid argument',
  [Code.NotFound]: 'not found',
  [Code.AlreadyExists]: 'already exists',
  [Code.PermissionDenied]: 'permission denied',
  [Code.FailedPrecondition]: 'failed precondition',
  [Code.Unimplemented]: 'not implemented',
  [Code.Internal]: 'internal',
  [Code.Unavailable]: 'unavailable',
  [Code.DeadlineExceeded]: 'context deadline exceeded',
};

const errorOfCode: Partial<Record<number, (message: string) => TsrunError>> = {
  [Code.InvalidArgument]: (m) => new InvalidArgument(m),
  [Code.NotFound]: (m) => new NotFound(m),
  [Code.AlreadyExists]: (m) => new AlreadyExists(m),
  [Code.PermissionDenied]: (m) => new PermissionDenied(m),
  [Code.FailedPrecondition]: (m) => new FailedPrecondition(m),
  [Code.Unimplemented]: (m) => new Unimplemented(m),
  [Code.Internal]: (m) => new Internal(m),
  [Code.Unavailable]: (m) => new Unavailable(m),
  [Code.DeadlineExceeded]: (m) => new Timeout(m),
};

/**
 * What a call that failed with `err` means to us. Codes without a kind of ours (Unknown,
 * Canceled, ResourceExhausted...) come back as the TtrpcError itself.
 */
export function fromStatusError(err: TtrpcError): TsrunError | TtrpcError {
  const make = errorOfCode[err.code];
  if (!make) return err;
  const text = classText[err.code] ?? '';
  const suffix = `: ${text}`;
  const converted = make(err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message);
  converted.cause = err;
  return converted;
}

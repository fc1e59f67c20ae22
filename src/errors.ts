// The kinds of error every layer raises. They follow containerd's errdefs so that the one
// mapping to CLI exit codes (src/cli/exit.ts) and the one to ttrpc codes (the shim's
// status map) can read the kind and nothing else. Messages are lowercase, without a final
// period, and chain as "doing what: cause" on one line: go-runc shows containerd's user
// only the last error line of our log.

export type ErrorKind =
  | 'InvalidArgument'
  | 'NotFound'
  | 'AlreadyExists'
  | 'FailedPrecondition'
  | 'PermissionDenied'
  | 'Unavailable'
  | 'Unimplemented'
  | 'Internal'
  | 'SystemError';

export interface ErrorContext {
  /** The config field or CLI flag at fault, e.g. `process.args` or `--pid-file`. */
  field?: string;
  containerId?: string;
  path?: string;
}

export class TsrunError extends Error {
  readonly kind: ErrorKind;
  readonly field?: string;
  readonly containerId?: string;
  readonly path?: string;

  constructor(kind: ErrorKind, message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = kind;
    this.kind = kind;
    this.field = context.field;
    this.containerId = context.containerId;
    this.path = context.path;
  }
}

export class InvalidArgument extends TsrunError {
  constructor(message: string, context: ErrorContext = {}) {
    super('InvalidArgument', message, context);
  }

  /** "<field>: <message>", the form every bad-input error takes. */
  static at(field: string, message: string): InvalidArgument {
    return new InvalidArgument(`${field}: ${message}`, { field });
  }
}

export class NotFound extends TsrunError {
  constructor(message: string, context: ErrorContext = {}) {
    super('NotFound', message, context);
  }
}

export class AlreadyExists extends TsrunError {
  constructor(message: string, context: ErrorContext = {}) {
    super('AlreadyExists', message, context);
  }
}

export class FailedPrecondition extends TsrunError {
  constructor(message: string, context: ErrorContext = {}) {
    super('FailedPrecondition', message, context);
  }
}

export class Unimplemented extends TsrunError {
  constructor(message: string, context: ErrorContext = {}) {
    super('Unimplemented', message, context);
  }
}

export class Internal extends TsrunError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super('Internal', message, context, options);
  }
}

/** A failed system call, in the runtime or in tsrun-init (then with the set-up step). */
export class SystemError extends TsrunError {
  readonly errno: number;
  readonly syscall?: string;
  readonly step?: string;
  readonly index?: number;

  constructor(
    message: string,
    details: { errno: number; syscall?: string; step?: string; index?: number },
    context: ErrorContext = {},
  ) {
    super('SystemError', message, context);
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.step = details.step;
    this.index = details.index;
  }
}

/** Prefixes an error's message with what we were doing, keeping its kind. */
export function withContext(what: string, err: unknown): Error {
  if (err instanceof TsrunError) {
    err.message = `${what}: ${err.message}`;
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new NotFound(`${what}: ${message}`);
  if (code === 'EEXIST') return new AlreadyExists(`${what}: ${message}`);
  return new Internal(`${what}: ${message}`, {}, { cause: err });
}

/** The message of anything thrown, for logs. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

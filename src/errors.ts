// The kinds of error every layer raises. They follow containerd's errdefs so that each
// boundary maps the kind and nothing else, in one place each: CLI exit codes
// (src/cli/exit.ts), ttrpc codes (src/shim/status-map.ts), and so should any other (a
// library's exported classes). Those maps are Records over ERROR_KINDS, so a kind added
// here does not compile until every boundary has placed it. An error is never rewritten:
// `within` and `under` make a new one with the old as its cause.
// Messages are lowercase, without a final period, and chain as "doing what: cause" on one
// line: go-runc shows containerd's user only the last error line of our log.

export const ERROR_KINDS = [
  'InvalidArgument',
  'NotFound',
  'AlreadyExists',
  'FailedPrecondition',
  'PermissionDenied',
  'Unavailable',
  'Unimplemented',
  /** Something did not happen in the time it was given (a freeze, a kill, a hook's timeout is HookFailed). */
  'Timeout',
  /** An OCI hook failed; `field` names it ("hooks.prestart[0]"), the message its path. */
  'HookFailed',
  /** A failure of tsrun itself or of a helper it runs: nothing the caller can correct. */
  'Internal',
  /** A failed system call; always with its errno. */
  'SystemError',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface ErrorContext {
  /** The config field or CLI flag at fault, e.g. `process.args` or `--pid-file`. */
  field?: string;
  containerId?: string;
  path?: string;
}

/** The shape every error class's constructor has, so that restating keeps the class. */
type Restate<E> = new (message: string, context: never, options: ErrorOptions) => E;

export abstract class TsrunError extends Error {
  readonly kind: ErrorKind;
  readonly field?: string;
  readonly containerId?: string;
  readonly path?: string;
  /** The message without its leading field, when it was made by `at(field, reason)`. */
  readonly reason?: string;

  protected constructor(kind: ErrorKind, message: string, context: ErrorContext & { reason?: string }, options?: ErrorOptions) {
    super(message, options);
    this.name = kind;
    this.kind = kind;
    this.field = context.field;
    this.containerId = context.containerId;
    this.path = context.path;
    this.reason = context.reason;
  }

  /** "what: message", a new error of this class and details, this one as its cause. */
  within(what: string): this {
    return this.#restated(`${what}: ${this.message}`, { field: this.field, reason: undefined });
  }

  /**
   * The same failure named from a wider model: a field of the cgroup layer ("memory.swap")
   * said as the config's ("linux.resources.memory.swap"). Only errors made with `at` have
   * a field that leads their message; others are returned as they are.
   */
  under(root: string): this {
    if (this.field === undefined || this.reason === undefined) return this;
    const field = `${root}.${this.field}`;
    return this.#restated(`${field}: ${this.reason}`, { field, reason: this.reason });
  }

  #restated(message: string, change: { field?: string; reason?: string }): this {
    const Class = this.constructor as Restate<this>;
    return new Class(message, { ...this, ...change } as never, { cause: this });
  }
}

/** The class of a kind whose errors carry nothing but the context. */
function kindOf(kind: ErrorKind) {
  return class extends TsrunError {
    constructor(message: string, context: ErrorContext & { reason?: string } = {}, options?: ErrorOptions) {
      super(kind, message, context, options);
    }
  };
}

export class InvalidArgument extends kindOf('InvalidArgument') {
  /** "<field>: <reason>", the form every bad-input error takes. */
  static at(field: string, reason: string): InvalidArgument {
    return new InvalidArgument(`${field}: ${reason}`, { field, reason });
  }
}

export class NotFound extends kindOf('NotFound') {}
export class AlreadyExists extends kindOf('AlreadyExists') {}
export class FailedPrecondition extends kindOf('FailedPrecondition') {}
export class PermissionDenied extends kindOf('PermissionDenied') {}
export class Unavailable extends kindOf('Unavailable') {}
export class Unimplemented extends kindOf('Unimplemented') {}
export class Timeout extends kindOf('Timeout') {}
export class Internal extends kindOf('Internal') {}
/** What only tsrun's own process can do for its caller (proxy its terminal): the CLI server
 *  hands such a call back to the caller's client, which runs it in a Node of its own. */
export class NeedsOwnProcess extends kindOf('Unavailable') {}

export class HookFailed extends TsrunError {
  declare readonly field: string;

  /** `field` is the hook's place in the config ("hooks.createRuntime[1]"). */
  constructor(message: string, context: ErrorContext & { field: string }, options?: ErrorOptions) {
    super('HookFailed', message, context, options);
  }
}

export interface SystemErrorDetails {
  /** The errno, positive (EPERM is 1). */
  errno: number;
  syscall?: string;
  /** The set-up step of tsrun-init that failed (cpp/plan/steps.def), when it was there. */
  step?: string;
  /** The index into the plan's list that the step works on, or a seccomp rule's. */
  index?: number;
}

/** A failed system call, in the runtime or in tsrun-init (then with the set-up step). */
export class SystemError extends TsrunError {
  readonly errno: number;
  readonly syscall?: string;
  readonly step?: string;
  readonly index?: number;

  constructor(message: string, context: SystemErrorDetails & ErrorContext & { reason?: string }, options?: ErrorOptions) {
    super('SystemError', message, context, options);
    this.errno = context.errno;
    this.syscall = context.syscall;
    this.step = context.step;
    this.index = context.index;
  }

  /** "<field>: <reason>": a system call refused a value the field asked for. */
  static at(field: string, reason: string, details: SystemErrorDetails & ErrorContext): SystemError {
    return new SystemError(`${field}: ${reason}`, { ...details, field, reason });
  }
}

/**
 * Prefixes an error's message with what we were doing, in a new error of the same kind.
 * Node's errors are classified by their code; errno codes other than ENOENT and EEXIST
 * become a SystemError with that errno.
 */
export function withContext(what: string, err: unknown): TsrunError {
  if (err instanceof TsrunError) return err.within(what);
  const message = `${what}: ${messageOf(err)}`;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === 'ENOENT') return new NotFound(message, {}, { cause: err });
  if (e?.code === 'EEXIST') return new AlreadyExists(message, {}, { cause: err });
  if (typeof e?.errno === 'number' && e.errno !== 0) return new SystemError(message, { errno: Math.abs(e.errno), syscall: e.syscall }, { cause: err });
  return new Internal(message, {}, { cause: err });
}

/** The message of anything thrown, for logs. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

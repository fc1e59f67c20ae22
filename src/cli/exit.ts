// Errors -> exit code, stderr and log: the one place. Like runc, every failure exits 1;
// the message goes to the log (the last error line there is what go-runc shows containerd's
// user) and, when the log is a file, once more to stderr.
import { CommanderError } from 'commander';
import { Internal, TsrunError, messageOf, type ErrorKind } from '../errors.js';
import { logger } from '../log.js';
import { err } from './output.js';

export const EXIT_FAILURE = 1;

// runc exits 1 whatever failed; its callers (go-runc, containerd) read the message.
const exitCodeOfKind: Record<ErrorKind, number> = {
  InvalidArgument: EXIT_FAILURE,
  NotFound: EXIT_FAILURE,
  AlreadyExists: EXIT_FAILURE,
  FailedPrecondition: EXIT_FAILURE,
  PermissionDenied: EXIT_FAILURE,
  Unavailable: EXIT_FAILURE,
  Unimplemented: EXIT_FAILURE,
  Timeout: EXIT_FAILURE,
  HookFailed: EXIT_FAILURE,
  Internal: EXIT_FAILURE,
  SystemError: EXIT_FAILURE,
};

/** Errors a command gave a code of its own (exec: 255). */
const ownCodes = new WeakMap<object, number>();

/** The failure of a command that exits with a code of its own, as "<prefix>: <cause>". */
export function withExitCode(error: unknown, code: number, prefix: string): unknown {
  if (error instanceof CommanderError) return error;
  const e = error instanceof TsrunError ? error.within(prefix) : new Internal(`${prefix}: ${messageOf(error)}`, {}, { cause: error });
  ownCodes.set(e, code);
  return e;
}

/** A single line, whatever the error holds. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ');
}

export function exitCodeFor(error: unknown): number {
  // commander's usage errors exit 1, as runc's; a help topic runc does not have exits 3
  if (error instanceof CommanderError) return error.exitCode;
  const own = typeof error === 'object' && error !== null ? ownCodes.get(error) : undefined;
  if (own !== undefined) return own;
  return error instanceof TsrunError ? exitCodeOfKind[error.kind] : EXIT_FAILURE;
}

export function report(error: unknown): number {
  const code = exitCodeFor(error);
  if (code === 0) return 0;
  let msg: string;
  if (error instanceof CommanderError) msg = error.message.replace(/^error: /, '');
  else msg = messageOf(error);
  msg = oneLine(msg);
  logger.error(msg);
  if (!logger.toStderr) err(`${msg}\n`);
  // Something not ours (a bug) thrown, maybe under a prefix: where it came from, for a debug log.
  const bug = error instanceof TsrunError ? error.cause : error;
  if (!(bug instanceof TsrunError) && !(bug instanceof CommanderError) && bug instanceof Error && bug.stack) {
    logger.debug(oneLine(bug.stack));
  }
  return code;
}

// Errors -> exit code, stderr and log: the one place. Like runc, every failure exits 1;
// the message goes to the log (the last error line there is what go-runc shows containerd's
// user) and, when the log is a file, once more to stderr.
import { CommanderError } from 'commander';
import { TsrunError, messageOf } from '../errors.js';
import { logger } from '../log.js';
import { err } from './output.js';

export const EXIT_FAILURE = 1;

const EXIT_CODE = Symbol('exitCode');

/** Marks an error to exit with a code of its own (exec: 255), its message prefixed. */
export function withExitCode(error: unknown, code: number, prefix: string): unknown {
  if (error instanceof CommanderError) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  e.message = `${prefix}: ${e.message}`;
  (e as unknown as Record<symbol, number>)[EXIT_CODE] = code;
  return e;
}

/** A single line, whatever the error holds. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ');
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_FAILURE;
  const own = (error as Record<symbol, number> | null)?.[EXIT_CODE];
  return typeof own === 'number' ? own : EXIT_FAILURE;
}

export function report(error: unknown): number {
  const code = exitCodeFor(error);
  if (code === 0) return 0;
  let msg: string;
  if (error instanceof CommanderError) msg = error.message.replace(/^error: /, '');
  else if (error instanceof TsrunError) msg = error.message;
  else msg = messageOf(error);
  msg = oneLine(msg);
  logger.error(msg);
  if (!logger.toStderr) err(`${msg}\n`);
  if (!(error instanceof TsrunError) && !(error instanceof CommanderError) && error instanceof Error && error.stack) {
    logger.debug(oneLine(error.stack));
  }
  return code;
}

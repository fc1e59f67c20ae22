// Errors -> exit code, stderr and log: the one place. Like runc, every failure exits 1;
// the message goes to the log (the last error line there is what go-runc shows containerd's
// user) and, when the log is a file, once more to stderr.
import { CommanderError } from 'commander';
import { TsrunError, messageOf } from '../errors.js';
import { logger } from '../log.js';
import { err } from './output.js';

export const EXIT_FAILURE = 1;

/** A single line, whatever the error holds. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ');
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_FAILURE;
  return EXIT_FAILURE;
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

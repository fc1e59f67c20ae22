// A foreground `tsrun run`: create, start, and stay with the container until it exits,
// passing on the signals tsrun receives and, when the container has a terminal and no
// --console-socket took it, wiring that terminal to tsrun's own; then delete it, as runc
// does without --keep.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CreateOptions, Runtime } from '../api/runtime.js';
import { NeedsOwnProcess } from '../errors.js';
import { logger } from '../log.js';
import { callerPath, invocation } from '../api/invocation.js';
import { TtyProxy } from './tty-proxy.js';

/** Signals a foreground `run` hands to the container rather than acting on itself. */
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGWINCH'];

/** Whether the bundle's process asks for a terminal (false when config.json cannot tell:
 *  create then says what is wrong with it). */
function wantsTerminal(bundle: string): boolean {
  try {
    const config = JSON.parse(readFileSync(path.join(callerPath(bundle), 'config.json'), 'utf8')) as { process?: { terminal?: unknown } };
    return config.process?.terminal === true;
  } catch {
    return false;
  }
}

/** Returns the exit code `tsrun run` exits with: the container's, 128 + n for signal n. */
export async function runInForeground(rt: Runtime, id: string, opts: CreateOptions, keep: boolean): Promise<number> {
  if (!invocation().local && !opts.consoleSocket && wantsTerminal(opts.bundle)) {
    throw new NeedsOwnProcess('the terminal of a foreground run is proxied by its own process', {});
  }
  const c = await rt.create(id, opts);
  const proxy = c.terminal ? new TtyProxy(c.terminal) : undefined;
  // The signals tsrun's caller receives: ours, or those its client passes on to the server.
  const stopForwarding = invocation().onSignals(FORWARDED, (sig) => {
    if (!c.signal(sig)) logger.debug(`forward ${sig}: the container has exited`);
  });
  try {
    await c.start();
    // The init is our own child (tsrun-init clones it with CLONE_PARENT): the wait reaps it.
    return (await c.wait()).exitCode ?? 0;
  } finally {
    proxy?.close();
    stopForwarding();
    if (!keep) await c.delete({ force: true });
  }
}

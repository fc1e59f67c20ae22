// A foreground `tsrun run`: create, start, and stay with the container until it exits,
// passing on the signals tsrun receives and, when the container has a terminal and no
// --console-socket took it, wiring that terminal to tsrun's own; then delete it, as runc
// does without --keep.
import type { CreateOptions, Runtime } from '../api/runtime.js';
import { logger } from '../log.js';
import { TtyProxy } from './tty-proxy.js';

/** Signals a foreground `run` hands to the container rather than acting on itself. */
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGWINCH'];

/** Returns the exit code `tsrun run` exits with: the container's, 128 + n for signal n. */
export async function runInForeground(rt: Runtime, id: string, opts: CreateOptions, keep: boolean): Promise<number> {
  const c = await rt.create(id, opts);
  const proxy = c.terminal ? new TtyProxy(c.terminal) : undefined;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = (): void => {
      if (!c.signal(sig)) logger.debug(`forward ${sig}: the container has exited`);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  try {
    await c.start();
    // The init is our own child (tsrun-init clones it with CLONE_PARENT): the wait reaps it.
    return (await c.wait()).exitCode ?? 0;
  } finally {
    proxy?.close();
    for (const [sig, h] of handlers) process.off(sig, h);
    if (!keep) await c.delete({ force: true });
  }
}

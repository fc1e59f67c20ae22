// run: create, start, and (unless detached) stay with the container until it exits,
// passing on the signals we receive; then delete it, as runc does without --keep.
import { closeSync } from 'node:fs';
import { constants as os } from 'node:os';
import { exitCodeOf, pidfdSendSignal, waitExit, type ProcessExit } from '../native/index.js';
import { FailedPrecondition, InvalidArgument, messageOf } from '../errors.js';
import { logger } from '../log.js';
import { create, type CreateOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { start } from './start.js';
import { loadBundle } from './bundle.js';
import { consolePair, TtyProxy } from './tty-proxy.js';
import type { StateStore } from './state-store.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
}

/** Signals a foreground `run` hands to the container rather than acting on itself. */
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGWINCH'];


/** Returns the exit code `tsrun run` should exit with. */
export async function run(store: StateStore, opts: RunOptions): Promise<number> {
  // Read once: judging a config.json is a good part of what `run` costs.
  const loaded = loadBundle(opts.bundle);
  const terminal = loaded.config.process?.terminal ?? false;
  const ownTty = terminal && !opts.consoleSocket;
  if (ownTty && opts.detach) {
    throw InvalidArgument.at('--console-socket', 'a detached container with a terminal needs a console socket to hand it over');
  }
  const pair = ownTty ? consolePair() : undefined;
  let container;
  try {
    container = await create(store, { ...opts, loaded, consoleSocketFd: pair?.theirs });
  } finally {
    if (pair) closeSync(pair.theirs);
  }
  const proxy = pair ? TtyProxy.attach(pair) : undefined;
  if (opts.detach) {
    try {
      await start(container);
    } catch (err) {
      await deleteContainer(store, container.id, true).catch(() => undefined);
      throw err;
    }
    return 0;
  }
  // The init is our own child (tsrun-init clones it with CLONE_PARENT), so we reap it.
  const pidfd = container.openInit();
  if (pidfd === null) {
    await deleteContainer(store, container.id, true);
    throw new FailedPrecondition('container init exited before start', { containerId: container.id });
  }
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = (): void => {
      try {
        pidfdSendSignal(pidfd, os.signals[sig]);
      } catch (err) {
        logger.debug(`forward ${sig}: ${messageOf(err)}`);
      }
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  let exit: ProcessExit;
  try {
    const exited = waitExit(pidfd);
    await start(container);
    exit = await exited;
    await proxy?.drain();
  } finally {
    proxy?.close();
    for (const [sig, h] of handlers) process.off(sig, h);
    closeSync(pidfd);
    if (!opts.keep) await deleteContainer(store, container.id, true);
  }
  return exitCodeOf(exit);
}

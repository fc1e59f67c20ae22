// start: release a created container's init from the exec fifo.
//
// The init blocks opening the fifo for writing; our open for reading (a blocking open, in
// libuv's thread pool) lets both through, the init writes one byte and execs. If the init
// died instead, nothing would ever open the other end: we notice through /proc and
// open the write side ourselves to free the pending open.
import { closeSync, constants, open, openSync, readFile, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { FailedPrecondition, SystemError } from '../errors.js';
import { deleteContainer } from './delete.js';
import type { Container } from './container.js';
import { runHooksWarning } from './hooks.js';

// node:fs's callbacks rather than node:fs/promises, which costs a CLI milliseconds to load.
const openAsync = promisify(open);
const readFileAsync = promisify(readFile);

async function unblock(fifo: string, opened: Promise<unknown>): Promise<void> {
  let done = false;
  void opened.finally(() => (done = true));
  while (!done) {
    try {
      // ENXIO until our pending reader has reached open(2); then this completes it.
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

export async function start(container: Container): Promise<void> {
  const status = container.status();
  if (status === 'stopped') throw new FailedPrecondition('cannot start a container that has stopped', { containerId: container.id });
  if (status !== 'created') throw new FailedPrecondition(`cannot start an already ${status} container`, { containerId: container.id });
  const pidfd = container.openInit();
  if (pidfd === null) throw new FailedPrecondition('cannot start a container that has stopped', { containerId: container.id });
  const fifo = container.fifoPath;
  try {
    const opening = openAsync(fifo, 'r');
    const died = (async (): Promise<boolean> => {
      // Poll until the open wins or the init is gone.
      let settled = false;
      void opening.finally(() => (settled = true)).catch(() => undefined);
      while (!settled) {
        // /proc, not waitid: reaping here would take the exit from `run`, which waits on
        // this init too (a zombie already reads as not alive).
        if (!container.initAlive()) return true;
        await new Promise((r) => setTimeout(r, 5));
      }
      return false;
    })();
    if (await Promise.race([opening.then(() => false), died])) await unblock(fifo, opening);
    const fd = await opening;
    let data: Buffer;
    try {
      data = await readFileAsync(fd);
    } finally {
      closeSync(fd);
    }
    rmSync(fifo, { force: true });
    if (data.length === 0) {
      throw new FailedPrecondition(
        (await died) ? 'container process is already dead' : 'cannot start an already running container',
        { containerId: container.id },
      );
    }
    // More than the "0": a startContainer hook failed and the init gave up instead of exec.
    // The spec then has the container stopped and the lifecycle go on at delete.
    const failure = data.subarray(1).toString().trim();
    if (failure) {
      await deleteContainer(container.store, container.id, true);
      throw new SystemError(failure, { errno: 0, step: 'hooks' }, { containerId: container.id });
    }
  } finally {
    closeSync(pidfd);
  }
  if (container.hasHooks('poststart')) await runHooksWarning(container.config(), 'poststart', container.hookState('running'));
}

// start: release a created container's init from the exec fifo.
//
// The init blocks opening the fifo for writing. Our open for reading, non-blocking, returns
// at once and lets the init's open through; the init writes "0" (and a message when a
// startContainer hook failed) and execs, which closes its end: we read to that end as the
// addon's epoll thread says the fifo is readable. No thread of libuv's pool waits in a
// blocking open, so a process that only starts containers (a shim server) never starts
// that pool. If the init died before opening its end, no readiness ever comes: we notice
// through /proc.
import { closeSync, constants, openSync, readSync, rmSync } from 'node:fs';
import { FailedPrecondition, HookFailed } from '../errors.js';
import { logger } from '../log.js';
import { cancelWatch, whenReadable } from '../native/index.js';
import { deleteContainer } from './delete.js';
import type { Container } from './container.js';
import { runHooksWarning } from './hooks.js';

/** What the init wrote before its end closed; died: the init was seen gone meanwhile. */
export async function readToEnd(fd: number, initAlive: () => boolean): Promise<{ data: Buffer; died: boolean }> {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  let died = false;
  // /proc, not waitid: reaping here would take the exit from `run`, which waits on this
  // init too (a zombie already reads as not alive).
  const deathWatch = setInterval(() => {
    if (initAlive()) return;
    died = true;
    cancelWatch(fd);
  }, 5);
  try {
    for (;;) {
      // Readable only once a writer has come: before, a read would see no writer as an end.
      await whenReadable(fd);
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
          throw err;
        }
        if (n === 0) return { data: Buffer.concat(chunks), died };
        chunks.push(Buffer.from(buf.subarray(0, n)));
      }
      if (died) return { data: Buffer.concat(chunks), died: true };
    }
  } finally {
    clearInterval(deathWatch);
  }
}

export async function start(container: Container): Promise<void> {
  const status = container.status();
  if (status === 'stopped') throw new FailedPrecondition('cannot start a container that has stopped', { containerId: container.id });
  if (status === 'running') throw new FailedPrecondition('cannot start an already running container', { containerId: container.id });
  // runc's words; a paused (frozen) init could never open the fifo, so start must not wait on it
  if (status !== 'created') throw new FailedPrecondition(`cannot start a container in the ${status} state`, { containerId: container.id });
  const pidfd = container.openInit();
  if (pidfd === null) throw new FailedPrecondition('cannot start a container that has stopped', { containerId: container.id });
  const fifo = container.fifoPath;
  logger.debug(`start ${container.id}: open the exec fifo, releasing pid ${container.state.pid}`);
  try {
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    let read: { data: Buffer; died: boolean };
    try {
      read = await readToEnd(fd, () => container.initAlive());
    } finally {
      closeSync(fd);
    }
    const { data, died } = read;
    rmSync(fifo, { force: true });
    if (data.length === 0) {
      throw new FailedPrecondition(
        died ? 'container process is already dead' : 'cannot start an already running container',
        { containerId: container.id },
      );
    }
    // More than the "0": a startContainer hook failed and the init gave up instead of exec.
    // The spec then has the container stopped and the lifecycle go on at delete.
    const failure = data.subarray(1).toString().trim();
    if (failure) {
      await deleteContainer(container.store, container.id, true);
      // tsrun-init wrote "error running hook #i: hooks.startContainer[i] ..." (cpp/init/extras.cc).
      const field = /hooks\.startContainer\[\d+\]/.exec(failure)?.[0] ?? 'hooks.startContainer';
      throw new HookFailed(failure, { field, containerId: container.id });
    }
  } finally {
    closeSync(pidfd);
  }
  logger.debug(`start ${container.id}: running`);
  if (container.hasHooks('poststart')) await runHooksWarning(container.config(), 'poststart', container.hookState('running'));
}

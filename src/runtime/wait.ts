// Waiting for a process we may not be the parent of (a created container's init belongs to
// whoever reaped `tsrun create`): its pidfd turns readable when it exits.
import { pidfdExited, reap } from '../native/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls done() with a growing pause until it holds (true) or timeoutMs has passed (false). */
async function pollUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(delay);
  }
}

/** True once the process behind pidfd has exited; false if it outlived timeoutMs. */
export function waitGone(pidfd: number, timeoutMs: number): Promise<boolean> {
  return pollUntil(() => reap(pidfd, false) !== null, timeoutMs);
}

/**
 * Like waitGone, but leaves the exit status to whoever waits for it (`run` does, on the
 * same process): a watcher that reaped would take it away.
 */
export function waitExited(pidfd: number, timeoutMs: number): Promise<boolean> {
  return pollUntil(() => pidfdExited(pidfd), timeoutMs);
}

// Waiting for a process we may not be the parent of (a created container's init belongs to
// whoever reaped `tsrun create`): its pidfd turns readable when it exits. We only look,
// never reap: when we are the parent (`tsrun run`, the shim), the exit belongs to whoever
// watches the pidfd for its status, and reaping here would take it from them.
import { pidfdExited } from '../native/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True once the process behind pidfd has exited; false if it outlived timeoutMs. */
export async function waitGone(pidfd: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
    if (pidfdExited(pidfd)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(delay);
  }
}

// cpp/napi/pidfd_state.cc, typed.
import { addon, call } from './addon.js';

const native = addon as unknown as { pidfdExited(pidfd: number): boolean };

/** True once the process behind pidfd has exited; never reaps it. */
export function pidfdExited(pidfd: number): boolean {
  return call(() => native.pidfdExited(pidfd));
}

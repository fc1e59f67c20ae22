// A process exec'd into a container: its stdio or terminal, its exit, its signals.
import { parseSignal } from '../runtime/signals.js';
import type { Spawner } from '../runtime/spawner.js';
import { Child } from './child.js';
import type { StdioStreams } from './stdio.js';
import type { Terminal } from './terminal.js';

export class ExecProcess extends Child {
  /** @internal made by Runtime.exec */
  constructor(pid: number, pidfd: number, spawner: Spawner, streams: StdioStreams, terminal: Terminal | null) {
    super(pid, pidfd, spawner, streams, terminal);
  }

  /** Sends a signal (SIGTERM by default); false when the process has exited. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    return this.signalSelf(typeof signal === 'number' ? signal : parseSignal(signal));
  }

  /** Lets the process run on without this handle (its pidfd is closed; it is not waited for). */
  unref(): void {
    this.release();
  }
}

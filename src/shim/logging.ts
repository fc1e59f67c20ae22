// The server's log: text lines (logrus's format, as the runc shim writes) on stderr, which
// the launcher made the bundle's log fifo. containerd copies them into its own log. Writes
// are non-blocking and a line that does not fit, or finds no reader, is dropped: a log
// must never stall the server.
import { writeSync } from 'node:fs';
import { formatLine, Logger, type LogLevel } from '../log.js';

export class ShimLogger extends Logger {
  constructor(debug: boolean) {
    super({ format: 'text', debug });
  }

  override log(level: LogLevel, msg: string): void {
    if (level === 'debug' && !this.options.debug) return;
    try {
      writeSync(2, `${formatLine('text', level, msg)}\n`);
    } catch {
      // EAGAIN, EPIPE: dropped
    }
  }
}

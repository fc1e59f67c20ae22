// The server's log: text lines (logrus's format and nanosecond stamps, as the runc shim writes) on stderr, which
// the launcher made the bundle's log fifo. containerd copies them into its own log. Writes
// are non-blocking and a line that does not fit, or finds no reader, is dropped: a log
// must never stall the server.
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { formatLine, Logger, rfc3339NanoFixed, type LogLevel } from '../log.js';

/** Now, to the microsecond that performance's clock gives, in nanoseconds since the epoch. */
function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

export class ShimLogger extends Logger {
  constructor(debug: boolean) {
    super({ format: 'text', debug });
  }

  override log(level: LogLevel, msg: string): void {
    if (level === 'debug' && !this.options.debug) return;
    try {
      writeSync(2, `${formatLine('text', level, msg, rfc3339NanoFixed(nowNs()))}\n`);
    } catch {
      // EAGAIN, EPIPE: dropped
    }
  }
}

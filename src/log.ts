// runc-compatible logging. Text lines look like logrus's
//   time="2026-01-02T15:04:05Z" level=error msg="container does not exist"
// and JSON lines like {"level":"error","msg":"...","time":"2026-01-02T15:04:05Z"}, the form
// go-runc parses from `--log <bundle>/log.json` to show containerd's user our last error.
import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, writeSync } from 'node:fs';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

const order: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

export interface LoggerOptions {
  /** A file to append to; stderr when absent. */
  file?: string;
  /** the fd lines go to when there is no file (2: this process's stderr) */
  stderrFd?: number;
  format: LogFormat;
  debug: boolean;
}

// RFC 3339 timestamps in UTC are put together from a Date's UTC fields. Date#toISOString (and
// toJSON) has V8 work out the host's local time first, through ICU: that maps ~640 KB of
// ICU's time zone data into a process that otherwise never reads it, and a shim server keeps
// it for as long as its containers live.
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** 2026-01-02T15:04:05Z, or 2026-01-02T15:04:05.123Z with milliseconds. Years 0-9999. */
export function utcTimestamp(date: Date, milliseconds: boolean): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  const day = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${day}T${time}${milliseconds ? `.${pad(date.getUTCMilliseconds(), 3)}` : ''}Z`;
}

/** RFC 3339 in UTC to the nanosecond, as Go's time.RFC3339Nano prints it: the fraction
 *  without its trailing zeros, and none at all on a whole second. */
export function rfc3339Nano(nanoseconds: bigint): string {
  const second = utcTimestamp(new Date(Number(nanoseconds / 1_000_000_000n) * 1000), false);
  const fraction = String(nanoseconds % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return fraction ? `${second.slice(0, -1)}.${fraction}Z` : second;
}

/** RFC 3339 in UTC with all nine digits of the fraction, as containerd's shims stamp their
 *  log lines (its RFC3339NanoFixed), so that lines line up with containerd's own. */
export function rfc3339NanoFixed(nanoseconds: bigint): string {
  const second = utcTimestamp(new Date(Number(nanoseconds / 1_000_000_000n) * 1000), false);
  return `${second.slice(0, -1)}.${String(nanoseconds % 1_000_000_000n).padStart(9, '0')}Z`;
}

/** RFC 3339 in UTC with whole seconds, as Go's time.RFC3339 prints it. */
export function rfc3339(date = new Date()): string {
  return utcTimestamp(date, false);
}

function quoteText(value: string): string {
  return JSON.stringify(value);
}

export function formatLine(format: LogFormat, level: LogLevel, msg: string, time: Date | string = new Date()): string {
  const stamp = typeof time === 'string' ? time : rfc3339(time);
  if (format === 'json') return JSON.stringify({ level, msg, time: stamp });
  return `time=${quoteText(stamp)} level=${level} msg=${quoteText(msg)}`;
}

export class Logger {
  constructor(readonly options: LoggerOptions) {}

  /** --debug: debug lines are written. */
  get debugging(): boolean {
    return this.options.debug;
  }

  /** True when log lines go to stderr (then an error is not printed a second time). */
  get toStderr(): boolean {
    return this.options.file === undefined;
  }

  log(level: LogLevel, msg: string): void {
    if (order[level] < order[this.options.debug ? 'debug' : 'info']) return;
    const line = formatLine(this.options.format, level, msg) + '\n';
    try {
      if (this.options.file !== undefined) appendFileSync(this.options.file, line);
      else writeSync(this.options.stderrFd ?? 2, line);
    } catch {
      // A log that cannot be written must not turn a result into a failure.
    }
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  info(msg: string): void {
    this.log('info', msg);
  }
  warn(msg: string): void {
    this.log('warning', msg);
  }
  error(msg: string): void {
    this.log('error', msg);
  }
}

/** Until the CLI has read its flags, and for library use: text to stderr. */
let processLogger = new Logger({ format: 'text', debug: false });

// A command the CLI server runs for a caller logs where that caller's flags say, beside
// others it runs at the same time: within withLoggerScope, setLogger and logger are the
// scope's own.
const scope = new AsyncLocalStorage<{ logger: Logger }>();

const current = (): Logger => scope.getStore()?.logger ?? processLogger;

export const logger = {
  debug: (msg: string): void => current().debug(msg),
  info: (msg: string): void => current().info(msg),
  warn: (msg: string): void => current().warn(msg),
  error: (msg: string): void => current().error(msg),
  get toStderr(): boolean {
    return current().toStderr;
  },
  get debugging(): boolean {
    return current().debugging;
  },
};

export function setLogger(l: Logger): void {
  const s = scope.getStore();
  if (s) s.logger = l;
  else processLogger = l;
}

/** Runs fn with a logger of its own, first l. */
export function withLoggerScope<T>(l: Logger, fn: () => T): T {
  return scope.run({ logger: l }, fn);
}

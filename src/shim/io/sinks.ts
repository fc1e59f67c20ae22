// Where a process's output goes: the client's fifo, or a file. One destination may serve
// stdout and stderr both (the same path for the two); it closes when its last user is done.
import { constants, createWriteStream, mkdirSync, openSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import path from 'node:path';
import { withContext } from '../../errors.js';
import { closeQuietly, openFifoReader, openFifoWriter, writeStream } from './fds.js';

export interface Sink {
  readonly stream: Writable;
  /** One user is done; the last one ends the stream, which closes the destination once flushed. */
  release(): void;
  /** Resolves once the destination is closed. */
  readonly closed: Promise<void>;
  /** Every user is done: the stream is ending and will close once what is queued is written. */
  readonly released: boolean;
  /** Ends the stream now, whoever still uses it; it closes once flushed. */
  finish(): void;
  /** Closes at once, dropping what was not written. */
  destroy(): void;
}

class StreamSink implements Sink {
  readonly closed: Promise<void>;
  #users: number;

  constructor(
    readonly stream: Writable,
    users: number,
    private readonly onClose: () => void = () => undefined,
  ) {
    this.#users = users;
    this.closed = new Promise((resolve) => {
      stream.once('close', () => {
        this.onClose();
        resolve();
      });
    });
    stream.on('error', () => stream.destroy());
  }

  get released(): boolean {
    return this.#users <= 0;
  }

  release(): void {
    if (--this.#users === 0) this.stream.end();
  }

  finish(): void {
    this.#users = 0;
    if (!this.stream.writableEnded) this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/**
 * The client's fifo. We hold a reader of our own, as the runc shim does: opening the writer
 * then never waits for the client, and output written while no client reads stays in the
 * fifo instead of failing with EPIPE.
 */
function fifoSink(file: string, users: number): Sink {
  const reader = openFifoReader(file);
  let writer: number;
  try {
    writer = openFifoWriter(file);
  } catch (err) {
    closeQuietly(reader);
    throw err;
  }
  return new StreamSink(writeStream(writer), users, () => closeQuietly(reader));
}

function fileSink(file: string, users: number, create: boolean): Sink {
  if (create) mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const flags = constants.O_WRONLY | constants.O_APPEND | (create ? constants.O_CREAT : 0);
  const fd = openSync(file, flags, 0o644);
  return new StreamSink(createWriteStream('', { fd, autoClose: true }), users);
}

/** A bare path is a fifo unless it names a regular file; file:// is always a file. */
export function openSink(target: { kind: 'path' | 'file'; path: string }, users: number): Sink {
  try {
    if (target.kind === 'file') return fileSink(target.path, users, true);
    return statSync(target.path).isFIFO() ? fifoSink(target.path, users) : fileSink(target.path, users, false);
  } catch (err) {
    throw withContext(`open ${target.path}`, err);
  }
}

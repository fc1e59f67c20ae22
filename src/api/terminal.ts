// A container's terminal: the pty master tsrun-init sends over the console socket, as a
// Duplex (what is written goes to the container's terminal, what it prints is read) with
// resize. The master reads EIO once every slave fd is closed: that is the terminal's end,
// not an error.
import { closeSync } from 'node:fs';
import { Duplex } from 'node:stream';
import type { ReadStream } from 'node:tty';
import { getWinsize, recvFd, setWinsize, socketPair, tty } from '../native/index.js';

export class Terminal extends Duplex {
  readonly #fd: number;
  readonly #master: ReadStream;

  /** Takes fd, a pty master: the terminal closes it. */
  constructor(fd: number) {
    super({ allowHalfOpen: false });
    this.#fd = fd;
    // tty's stream (libuv's tty handle) reads and writes the master without a thread.
    const master = new (tty().ReadStream)(fd);
    this.#master = master;
    master.on('data', (d: Buffer) => {
      if (!this.push(d)) master.pause();
    });
    const end = (): void => {
      this.push(null);
    };
    master.on('end', end);
    master.on('close', end);
    master.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EIO' ? end() : this.destroy(err)));
  }

  override _read(): void {
    this.#master.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#master.write(chunk, done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#master.destroy();
    done(err);
  }

  /** The container's terminal gets this size (and its foreground process SIGWINCH). */
  resize(cols: number, rows: number): void {
    setWinsize(this.#fd, rows, cols);
  }

  /** Takes the size of the terminal at fd (this program's own, say); false if fd is none. */
  resizeLike(fd: number): boolean {
    const size = getWinsize(fd);
    if (size) setWinsize(this.#fd, size.rows, size.cols);
    return size !== null;
  }
}

/**
 * The socket pair a create or exec hands tsrun-init as its console socket, when the caller
 * gave none: the master arrives on our end.
 */
export class ConsoleReceiver {
  #ours: number | undefined;
  #theirs: number | undefined;

  constructor() {
    [this.#ours, this.#theirs] = socketPair();
  }

  /** The end tsrun-init sends the master on. */
  get fd(): number {
    return this.#theirs ?? -1;
  }

  /** tsrun-init has its copy (or failed): ours goes. */
  handedOver(): void {
    if (this.#theirs !== undefined) closeSync(this.#theirs);
    this.#theirs = undefined;
  }

  /** The master tsrun-init sent, as a Terminal. */
  receive(): Terminal {
    this.handedOver();
    try {
      return new Terminal(recvFd(this.#ours ?? -1).fd);
    } finally {
      this.close();
    }
  }

  close(): void {
    this.handedOver();
    if (this.#ours !== undefined) closeSync(this.#ours);
    this.#ours = undefined;
  }
}

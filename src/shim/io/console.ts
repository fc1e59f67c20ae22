// A terminal: the runtime makes the pty inside the container and sends us its master over a
// console socket (runc's --console-socket protocol); we copy between the master and the
// client's fifos and set its window size.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReadStream } from 'node:tty';
import { FailedPrecondition } from '../../errors.js';
import { acceptConn, recvFd, setWinsize, tty, unixListen } from '../../native/index.js';
import { closeQuietly, ended } from './fds.js';

/** How long to wait for the master once the runtime said the process is ready (it was sent before). */
const RECEIVE_TIMEOUT_MS = 5000;

export class ConsoleSocket {
  readonly path: string;
  readonly #dir: string;
  #fd: number | undefined;

  constructor() {
    this.#dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-pty-'));
    this.path = path.join(this.#dir, 'pty.sock');
    try {
      this.#fd = unixListen(this.path);
    } catch (err) {
      rmSync(this.#dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The pty master the runtime sent. */
  receive(): number {
    if (this.#fd === undefined) throw new FailedPrecondition('console socket is closed');
    try {
      const conn = acceptConn(this.#fd, RECEIVE_TIMEOUT_MS);
      try {
        return recvFd(conn).fd;
      } finally {
        closeQuietly(conn);
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    closeQuietly(this.#fd);
    this.#fd = undefined;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export class Console {
  /** Reads what the container writes, and takes what it should read. */
  readonly stream: ReadStream;
  readonly #fd: number;

  constructor(masterFd: number) {
    this.#fd = masterFd;
    this.stream = new (tty().ReadStream)(masterFd);
    // EIO is how a master reads once every slave is closed: the end of the output.
    this.stream.on('error', () => this.stream.destroy());
  }

  resize(width: number, height: number): void {
    if (this.stream.destroyed) return;
    setWinsize(this.#fd, height, width);
  }

  ended(ms: number): Promise<void> {
    return ended(this.stream, ms);
  }

  close(): void {
    this.stream.destroy();
  }
}

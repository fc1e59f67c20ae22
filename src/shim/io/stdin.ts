// The client's stdin fifo. Besides our reader we hold a writer of our own, so the container
// does not see EOF before the client has even opened its end; CloseIO drops it, and EOF then
// comes when the client closes too.
import type net from 'node:net';
import { withContext } from '../../errors.js';
import { closeQuietly, openFifoReader, openFifoWriter, readStream } from './fds.js';

export class StdinFifo {
  readonly stream: net.Socket;
  #held: number | undefined;

  constructor(path: string) {
    let reader: number | undefined;
    try {
      reader = openFifoReader(path);
      this.#held = openFifoWriter(path);
    } catch (err) {
      closeQuietly(reader);
      throw withContext(`open stdin ${path}`, err);
    }
    this.stream = readStream(reader);
  }

  /** CloseIO: from now on the container reads EOF once the client closes its end. */
  closeHeld(): void {
    closeQuietly(this.#held);
    this.#held = undefined;
  }

  destroy(): void {
    this.closeHeld();
    this.stream.destroy();
  }
}

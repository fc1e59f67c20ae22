// One of containerd's connections to a group, as the brain's ttrpc server sees it: a Duplex
// whose reads are the whole frames the keeper relays and whose writes go back to the keeper.
// The socket itself stays with the keeper, so the brain can go and come back while
// containerd sees one connection throughout.
import { Duplex } from 'node:stream';

export class RelayedSocket extends Duplex {
  #done = false;

  constructor(
    readonly conn: number,
    /** writes go to the keeper: whole ttrpc frames, one per write */
    private readonly forward: (data: Buffer) => void,
    /** the server is done with the connection: the keeper closes it */
    private readonly onClose: () => void,
  ) {
    super({ allowHalfOpen: true });
  }

  /** A frame the keeper relayed. */
  deliver(frame: Uint8Array): void {
    if (!this.destroyed) this.push(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  }

  /** containerd will send nothing more. */
  peerEnded(): void {
    if (!this.destroyed) this.push(null);
  }

  override _read(): void {
    // Frames are pushed as the keeper relays them.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.forward(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#close();
    // The keeper closes containerd's socket once it has written what we sent: nothing
    // more can come from it either.
    this.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#close();
    callback(error);
  }

  #close(): void {
    if (this.#done) return;
    this.#done = true;
    this.onClose();
  }
}

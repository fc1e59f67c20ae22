// The brain's end of a keeper's channel (proto/tsrun/keeper/v1/keeper.proto): whole
// KeeperMessages in, each with the fds that came with it, and BrainMessages out. Reading is
// watched on the addon's epoll thread; writing blocks while the keeper reads (a native loop
// that never blocks), bounded (cpp/napi/channel.cc).
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { BrainMessageSchema, KeeperMessageSchema, type KeeperMessage } from '../../gen/tsrun/keeper/v1/keeper_pb.js';
import { messageOf } from '../../errors.js';
import { cancelWatch, channelRecv, channelSend, whenReadable } from '../../native/index.js';
import { closeQuietly } from '../io/fds.js';

const HEADER = 8;
/** A ttrpc frame (4 MiB and its header) in its envelope, with room to spare. */
const MAX_MESSAGE = 8 << 20;

export type BrainMessageInit = MessageInitShape<typeof BrainMessageSchema>;

export interface ChannelHandlers {
  /** A message and its fds, which become the handler's to close. */
  message(message: KeeperMessage, fds: number[]): void;
  /** The keeper is gone (or broke the format); called once, never from inside send(). */
  closed(why: string): void;
}

export class KeeperChannel {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #fds: number[] = [];
  #open = true;

  constructor(
    readonly fd: number,
    private readonly handlers: ChannelHandlers,
  ) {
    void this.#read().catch((err: unknown) => this.#fail(`reading: ${messageOf(err)}`));
  }

  get open(): boolean {
    return this.#open;
  }

  /** Sends a message; false (and the channel closed) when the keeper cannot take it. */
  send(message: BrainMessageInit, fds: number[] = []): boolean {
    if (!this.#open) return false;
    const body = toBinary(BrainMessageSchema, create(BrainMessageSchema, message));
    const out = Buffer.allocUnsafe(HEADER + body.length);
    out.writeUInt32BE(body.length, 0);
    out.writeUInt32BE(fds.length, 4);
    out.set(body, HEADER);
    try {
      channelSend(this.fd, out, fds);
      return true;
    } catch (err) {
      this.#fail(`writing: ${messageOf(err)}`);
      return false;
    }
  }

  /** Closes the channel; the handlers hear nothing more. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    cancelWatch(this.fd);
    closeQuietly(this.fd);
    for (const fd of this.#fds.splice(0)) closeQuietly(fd);
  }

  #fail(why: string): void {
    if (!this.#open) return;
    this.close();
    setImmediate(() => this.handlers.closed(why));
  }

  async #read(): Promise<void> {
    while (this.#open) {
      await whenReadable(this.fd);
      if (!this.#open) return;
      const chunk = channelRecv(this.fd);
      this.#fds.push(...chunk.fds);
      if (chunk.data.length > 0) this.#buffer = this.#buffer.length === 0 ? chunk.data : Buffer.concat([this.#buffer, chunk.data]);
      this.#dispatch();
      if (chunk.eof) this.#fail('the keeper closed its channel');
    }
  }

  /** Whole messages, in order; each one's fds arrived no later than its first byte. */
  #dispatch(): void {
    let pos = 0;
    while (this.#open && this.#buffer.length - pos >= HEADER) {
      const length = this.#buffer.readUInt32BE(pos);
      const count = this.#buffer.readUInt32BE(pos + 4);
      if (length > MAX_MESSAGE || count > this.#fds.length + 253) {
        this.#fail(`a message of ${length} bytes and ${count} fds breaks the channel's format`);
        return;
      }
      if (this.#buffer.length - pos - HEADER < length) break;
      if (this.#fds.length < count) {
        this.#fail(`a message announced ${count} fds and came with ${this.#fds.length}`);
        return;
      }
      const body = this.#buffer.subarray(pos + HEADER, pos + HEADER + length);
      pos += HEADER + length;
      const fds = this.#fds.splice(0, count);
      let message: KeeperMessage;
      try {
        message = fromBinary(KeeperMessageSchema, body);
      } catch (err) {
        for (const fd of fds) closeQuietly(fd);
        this.#fail(`an undecodable message: ${messageOf(err)}`);
        return;
      }
      this.handlers.message(message, fds);
    }
    this.#buffer = pos === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(pos);
  }
}

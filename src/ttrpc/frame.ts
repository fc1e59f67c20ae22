// ttrpc framing. Every message on the socket is a 10-byte header and `length` bytes of data:
//
//   offset  size  field
//   0       4     data length, big-endian, header excluded, at most 4 MiB
//   4       4     stream id, big-endian (odd: opened by the client)
//   8       1     message type (1 request, 2 response, 3 data)
//   9       1     flags, meaning depends on the type
//
// There is no handshake, ping or flow control: the first byte on a connection is a header.

import { Code, TtrpcError } from './status.js';

export const HEADER_LENGTH = 10;
export const MAX_DATA_LENGTH = 4 << 20;

export const MessageType = {
  Request: 0x01,
  Response: 0x02,
  /** Streaming only (ttrpc >= 1.2). */
  Data: 0x03,
} as const;

export const Flags = {
  /** The sender will send nothing more on this stream. */
  RemoteClosed: 0x01,
  /** Request only: the client will follow with Data frames. */
  RemoteOpen: 0x02,
  /** Data only: the frame carries no message, not even an empty one. */
  NoData: 0x04,
} as const;

export interface FrameHeader {
  length: number;
  streamId: number;
  type: number;
  flags: number;
}

export interface Frame extends FrameHeader {
  data: Buffer;
}

/** The status Go's ttrpc gives an oversized message, on that message's stream. */
export function oversizeError(length: number): TtrpcError {
  return new TtrpcError(
    Code.ResourceExhausted,
    `message length ${length} exceed maximum message size of ${MAX_DATA_LENGTH}`,
  );
}

/** Header and data in one buffer, so that one write puts the whole frame on the socket. */
export function encodeFrame(streamId: number, type: number, flags: number, data: Uint8Array): Buffer {
  if (data.length > MAX_DATA_LENGTH) throw oversizeError(data.length);
  const out = Buffer.allocUnsafe(HEADER_LENGTH + data.length);
  out.writeUInt32BE(data.length, 0);
  out.writeUInt32BE(streamId, 4);
  out[8] = type;
  out[9] = flags;
  out.set(data, HEADER_LENGTH);
  return out;
}

export function decodeHeader(buf: Uint8Array, offset = 0): FrameHeader {
  const view = new DataView(buf.buffer, buf.byteOffset + offset, HEADER_LENGTH);
  return {
    length: view.getUint32(0),
    streamId: view.getUint32(4),
    type: view.getUint8(8),
    flags: view.getUint8(9),
  };
}

export interface FrameSink {
  frame(frame: Frame): void;
  /** A header announced more than MAX_DATA_LENGTH; its data is being skipped, not buffered. */
  oversize(header: FrameHeader): void;
}

/**
 * Cuts a byte stream into frames. It holds at most one frame's bytes (4 MiB + header), so a
 * peer cannot make us buffer more by lying about lengths: oversized data is counted off as it
 * arrives and dropped.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #header: FrameHeader | undefined;
  #skip = 0;

  push(chunk: Buffer, sink: FrameSink): void {
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, chunk.length);
      this.#skip -= n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#header === undefined) {
        if (this.#buffered < HEADER_LENGTH) return;
        const header = decodeHeader(this.#take(HEADER_LENGTH));
        if (header.length > MAX_DATA_LENGTH) {
          const n = Math.min(header.length, this.#buffered);
          this.#take(n);
          this.#skip = header.length - n;
          sink.oversize(header);
          if (this.#skip > 0) return;
          continue;
        }
        this.#header = header;
      }
      if (this.#buffered < this.#header.length) return;
      const header = this.#header;
      this.#header = undefined;
      sink.frame({ ...header, data: this.#take(header.length) });
    }
  }

  /** True while part of a frame has been read: a connection closing now cut a frame short. */
  get partial(): boolean {
    return this.#buffered > 0 || this.#header !== undefined || this.#skip > 0;
  }

  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Buffer;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

// A peer that speaks raw frames, for tests that must send what our client never would
// (even stream ids, garbage, truncated frames) and read exactly what the server answers.

import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestSchema, ResponseSchema, type Response } from '../../src/gen/ttrpc/request_pb.js';
import { FrameReader, MessageType, encodeFrame, type Frame } from '../../src/ttrpc/frame.js';

/** A fresh directory for sockets, removed by the returned function. */
export function socketDir(): { path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-ttrpc-'));
  return { path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class RawPeer {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    const reader = new FrameReader();
    const sink = {
      frame: (f: Frame) => {
        this.frames.push({ ...f, data: Buffer.from(f.data) });
        for (const w of this.#waiters.splice(0)) w();
      },
      oversize: () => {},
    };
    socket.on('data', (chunk: Buffer) => reader.push(chunk, sink));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(path: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path, allowHalfOpen: true });
      socket.once('connect', () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  request(streamId: number, init: MessageInitShape<typeof RequestSchema>, flags = 0): void {
    this.write(encodeFrame(streamId, MessageType.Request, flags, toBinary(RequestSchema, create(RequestSchema, init))));
  }

  /** Waits until `n` frames have arrived in all, or fails after `ms`. */
  async waitFrames(n: number, ms = 2000): Promise<Frame[]> {
    const deadline = Date.now() + ms;
    while (this.frames.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} frames, got ${this.frames.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** The Response carried by frame `i`. */
  response(i: number): Response {
    const frame = this.frames[i];
    if (!frame) throw new Error(`no frame ${i}`);
    return fromBinary(ResponseSchema, frame.data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

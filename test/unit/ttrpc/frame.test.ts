import { describe, expect, it } from 'vitest';
import { FrameReader, HEADER_LENGTH, MAX_DATA_LENGTH, MessageType, decodeHeader, encodeFrame, type Frame, type FrameHeader } from '../../../src/ttrpc/frame.js';
import { Code, TtrpcError } from '../../../src/ttrpc/status.js';

function collect(reader: FrameReader, chunks: Buffer[]): { frames: Frame[]; oversized: FrameHeader[] } {
  const frames: Frame[] = [];
  const oversized: FrameHeader[] = [];
  const sink = { frame: (f: Frame) => frames.push({ ...f, data: Buffer.from(f.data) }), oversize: (h: FrameHeader) => oversized.push(h) };
  for (const chunk of chunks) reader.push(chunk, sink);
  return { frames, oversized };
}

describe('frame header', () => {
  it('is 10 bytes: big-endian length and stream id, then type and flags', () => {
    // The example of a unary request on stream 1 with a 42-byte Request.
    const frame = encodeFrame(1, MessageType.Request, 0, new Uint8Array(0x2a));
    expect(frame.subarray(0, HEADER_LENGTH).toString('hex')).toBe('0000002a000000010100');
    expect(frame.length).toBe(HEADER_LENGTH + 0x2a);

    const big = encodeFrame(0x01020304, MessageType.Data, 0x05, Uint8Array.of(9));
    expect(big.subarray(0, HEADER_LENGTH).toString('hex')).toBe('00000001010203040305');
    expect(decodeHeader(big)).toEqual({ length: 1, streamId: 0x01020304, type: 3, flags: 5 });
  });

  it('refuses to send more than 4 MiB of data and accepts exactly 4 MiB', () => {
    expect(MAX_DATA_LENGTH).toBe(4194304);
    expect(encodeFrame(1, MessageType.Request, 0, new Uint8Array(MAX_DATA_LENGTH)).length).toBe(MAX_DATA_LENGTH + 10);
    let caught: unknown;
    try {
      encodeFrame(1, MessageType.Request, 0, new Uint8Array(MAX_DATA_LENGTH + 1));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TtrpcError);
    expect((caught as TtrpcError).code).toBe(Code.ResourceExhausted);
    expect((caught as TtrpcError).message).toBe('message length 4194305 exceed maximum message size of 4194304');
  });
});

describe('FrameReader', () => {
  const stream = Buffer.concat([
    encodeFrame(1, MessageType.Request, 0, Buffer.from('hello')),
    encodeFrame(3, MessageType.Request, 0, new Uint8Array(0)),
    encodeFrame(5, MessageType.Data, 1, Buffer.from('x'.repeat(300))),
  ]);
  const expected = [
    { length: 5, streamId: 1, type: 1, flags: 0, data: Buffer.from('hello') },
    { length: 0, streamId: 3, type: 1, flags: 0, data: Buffer.alloc(0) },
    { length: 300, streamId: 5, type: 3, flags: 1, data: Buffer.from('x'.repeat(300)) },
  ];

  it('decodes frames whatever the chunking, down to one byte at a time', () => {
    expect(collect(new FrameReader(), [stream]).frames).toEqual(expected);
    const bytes = [...stream].map((b) => Buffer.of(b));
    expect(collect(new FrameReader(), bytes).frames).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut++) {
      const { frames } = collect(new FrameReader(), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(frames).toEqual(expected);
    }
  }, 60_000);

  it('reports a frame cut short as partial', () => {
    const reader = new FrameReader();
    expect(reader.partial).toBe(false);
    const { frames } = collect(reader, [stream.subarray(0, 17)]);
    expect(frames).toHaveLength(1);
    expect(reader.partial).toBe(true);
    collect(reader, [stream.subarray(17)]);
    expect(reader.partial).toBe(false);
  });

  it('skips an oversized frame without buffering it and goes on with the next', () => {
    const header = Buffer.alloc(10);
    header.writeUInt32BE(MAX_DATA_LENGTH + 1, 0);
    header.writeUInt32BE(7, 4);
    header[8] = MessageType.Request;
    const body = Buffer.alloc(MAX_DATA_LENGTH + 1, 0xab);
    const next = encodeFrame(9, MessageType.Request, 0, Buffer.from('ok'));
    const chunks: Buffer[] = [header];
    for (let i = 0; i < body.length; i += 65536) chunks.push(body.subarray(i, i + 65536));
    chunks.push(next);

    const reader = new FrameReader();
    const { frames, oversized } = collect(reader, chunks);
    expect(oversized).toEqual([{ length: MAX_DATA_LENGTH + 1, streamId: 7, type: 1, flags: 0 }]);
    expect(frames).toEqual([{ length: 2, streamId: 9, type: 1, flags: 0, data: Buffer.from('ok') }]);
    expect(reader.partial).toBe(false);
  });

  it('reports a huge length at once, before any of its data arrives', () => {
    const header = Buffer.from('ffffffff000000010100', 'hex');
    const reader = new FrameReader();
    const { oversized } = collect(reader, [header]);
    expect(oversized).toHaveLength(1);
    expect(oversized[0]?.length).toBe(0xffffffff);
    expect(reader.partial).toBe(true);
  });
});

// The CLI server's records (cpp/cli/protocol.h has the layout): little-endian u32 and i32
// fields, strings as a u32 length and UTF-8 bytes, lists as a u32 count and their items.
// Pure, so that the framing is tested without a server.

export class Writer {
  private readonly parts: Buffer[] = [];

  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    this.parts.push(b);
    return this;
  }

  i32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n | 0);
    this.parts.push(b);
    return this;
  }

  str(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    this.u32(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  strs(list: readonly string[]): this {
    this.u32(list.length);
    for (const s of list) this.str(s);
    return this;
  }

  i32s(list: readonly number[]): this {
    this.u32(list.length);
    for (const n of list) this.i32(n);
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class Reader {
  private off = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new RangeError(`a CLI server record ends ${this.off + n - this.buf.length} bytes early`);
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.off);
    this.off += 4;
    return v;
  }

  str(): string {
    const len = this.u32();
    this.need(len);
    const s = this.buf.toString('utf8', this.off, this.off + len);
    this.off += len;
    return s;
  }

  strs(): string[] {
    const n = this.u32();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.str());
    return out;
  }

  u32s(): number[] {
    const n = this.u32();
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.u32());
    return out;
  }
}

/** What a caller's client sends first: everything about the call. */
export interface CallRecord {
  version: number;
  umask: number;
  /** which build of tsrun the client belongs to (the bundle's size and mtime) */
  build: string;
  cwd: string;
  argv: string[];
  env: string[];
  /** the caller's fd numbers, in the order their fds came with the record */
  fdNumbers: number[];
}

export function decodeCall(r: Reader): CallRecord {
  const version = r.u32();
  const umask = r.u32();
  const build = r.str();
  const cwd = r.str();
  const argv = r.strs();
  const env = r.strs();
  const fdNumbers = r.u32s();
  return { version, umask, build, cwd, argv, env, fdNumbers };
}

export function encodeCall(type: number, c: CallRecord): Buffer {
  const w = new Writer().u32(type).u32(c.version).u32(c.umask).str(c.build).str(c.cwd).strs(c.argv).strs(c.env).u32(c.fdNumbers.length);
  for (const n of c.fdNumbers) w.u32(n);
  return w.done();
}

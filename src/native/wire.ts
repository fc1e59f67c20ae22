// The wire formats described in cpp/plan/*.def, walked from the schema scripts/gen-wire.mjs
// generates (wire.gen.ts): the plan, encoded for tsrun-init (and decoded, for the test that
// round-trips it through tsrun-init's decoder), and the sync channel's fixed records.
import { Internal } from '../errors.js';
import { ENUMS, FIXED, RECORDS, WIRE_HASH, type EnumName, type FixedType, type MessageKind, type Plan, type SyncRecord, type WireType } from './wire.gen.js';

export * from './wire.gen.js';

/** One growing buffer: a plan is thousands of small fields. */
class Writer {
  private buf = Buffer.allocUnsafe(4096);
  private off = 0;

  private room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n));
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }
  uint(v: number, size: number): void {
    this.room(size);
    this.off = size === 1 ? this.buf.writeUInt8(v, this.off) : this.buf.writeUInt32LE(v >>> 0, this.off);
  }
  i32(v: number): void {
    this.room(4);
    this.off = this.buf.writeInt32LE(v, this.off);
  }
  u64(v: bigint): void {
    this.room(8);
    this.off = this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.off);
  }
  bytes(b: Buffer): void {
    this.uint(b.length, 4);
    this.room(b.length);
    this.off += b.copy(this.buf, this.off);
  }
  done(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

class Reader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}

  uint(size: number): number {
    const v = size === 1 ? this.buf.readUInt8(this.off) : this.buf.readUInt32LE(this.off);
    this.off += size;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32LE(this.off);
    this.off += 4;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64LE(this.off);
    this.off += 8;
    return v;
  }
  bytes(): Buffer {
    const n = this.uint(4);
    if (this.off + n > this.buf.length) throw new RangeError('truncated');
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
  atEnd(): boolean {
    return this.off === this.buf.length;
  }
}

function enumCode(name: EnumName, value: unknown): number {
  const code = (ENUMS[name].codes as Record<string, number>)[value as string];
  if (code === undefined) throw new Internal(`wire: ${name} has no value ${JSON.stringify(value)}`);
  return code;
}

function enumValue(name: EnumName, code: number): string {
  for (const [value, c] of Object.entries(ENUMS[name].codes)) if (c === code) return value;
  throw new Internal(`wire: ${name} has no code ${code}`);
}

/** A field of a record that is absent (an OPTIONAL's null) goes as its type's zero. */
function zero(type: WireType): unknown {
  if (typeof type !== 'string') {
    if ('list' in type) return [];
    if ('enum' in type) return Object.keys(ENUMS[type.enum].codes)[0];
    return Object.fromEntries(RECORDS[type.record].map((f) => [f.name, 'optional' in f ? null : zero(f.type)]));
  }
  if (type === 'u64' || type === 'i64') return 0n;
  if (type === 'bool') return false;
  if (type === 'str') return '';
  if (type === 'bytes') return Buffer.alloc(0);
  return 0;
}

function put(w: Writer, type: WireType, v: unknown): void {
  if (typeof type !== 'string') {
    if ('list' in type) {
      const items = v as unknown[];
      w.uint(items.length, 4);
      for (const item of items) put(w, type.list, item);
    } else if ('enum' in type) {
      w.uint(enumCode(type.enum, v), ENUMS[type.enum].size);
    } else {
      const rec = v as Record<string, unknown>;
      for (const f of RECORDS[type.record]) {
        const fv = rec[f.name];
        if ('optional' in f) w.uint(fv === null ? 0 : 1, 1);
        put(w, f.type, fv ?? zero(f.type));
      }
    }
    return;
  }
  switch (type) {
    case 'u8':
    case 'bool':
      return w.uint(Number(v), 1);
    case 'u32':
      return w.uint(v as number, 4);
    case 'i32':
      return w.i32(v as number);
    case 'u64':
    case 'i64':
    case 'flags64':
      return w.u64(BigInt(v as bigint | number));
    case 'str':
      return w.bytes(Buffer.from(v as string));
    case 'bytes':
      return w.bytes(v as Buffer);
  }
}

function get(r: Reader, type: WireType): unknown {
  if (typeof type !== 'string') {
    if ('list' in type) return Array.from({ length: r.uint(4) }, () => get(r, type.list));
    if ('enum' in type) return enumValue(type.enum, r.uint(ENUMS[type.enum].size));
    const out: Record<string, unknown> = {};
    for (const f of RECORDS[type.record]) {
      const present = 'optional' in f ? r.uint(1) !== 0 : true;
      const v = get(r, f.type);
      out[f.name] = present ? v : null;
    }
    return out;
  }
  switch (type) {
    case 'u8':
      return r.uint(1);
    case 'bool':
      return r.uint(1) !== 0;
    case 'u32':
      return r.uint(4);
    case 'i32':
      return r.i32();
    case 'u64':
      return r.u64();
    case 'i64':
      return BigInt.asIntN(64, r.u64());
    case 'flags64':
      return Number(r.u64());
    case 'str':
      return r.bytes().toString('utf8');
    case 'bytes':
      return Buffer.from(r.bytes());
  }
}

/** The plan as tsrun-init reads it (cpp/plan/decode.cc), headed by the descriptions' hash. */
export function encodePlan(plan: Plan): Buffer {
  const w = new Writer();
  w.uint(WIRE_HASH, 4);
  put(w, { record: 'Plan' }, plan);
  return w.done();
}

/** The plan back from its wire bytes, without the fields that are not sent (WIRE_LOCAL). */
export function decodePlan(bytes: Buffer): Plan {
  const r = new Reader(bytes);
  const hash = r.uint(4);
  if (hash !== WIRE_HASH) throw new Internal(`wire: a plan of description ${hash.toString(16)}, this code reads ${WIRE_HASH.toString(16)}`);
  const plan = get(r, { record: 'Plan' }) as Plan;
  if (!r.atEnd()) throw new Internal('wire: trailing bytes after the plan');
  return plan;
}

function fixedValue(buf: Buffer, type: FixedType, offset: number, size: number): unknown {
  if (typeof type !== 'string') return enumValue(type.enum, size === 1 ? buf.readUInt8(offset) : buf.readUInt32LE(offset));
  switch (type) {
    case 'u8':
      return buf.readUInt8(offset);
    case 'u32':
      return buf.readUInt32LE(offset);
    case 'i32':
      return buf.readInt32LE(offset);
    case 'u64':
      return buf.readBigUInt64LE(offset);
    case 'i64':
      return buf.readBigInt64LE(offset);
    case 'text': {
      const text = buf.subarray(offset, offset + size);
      const end = text.indexOf(0);
      return text.subarray(0, end < 0 ? size : end).toString('utf8');
    }
  }
}

/** The size of every record tsrun-init sends. */
export const SYNC_RECORD_SIZE = FIXED.Record.size;

/** A record from tsrun-init (an unknown kind throws Internal). */
export function readSyncRecord(buf: Buffer): SyncRecord {
  return Object.fromEntries(FIXED.Record.fields.map((f) => [f.name, fixedValue(buf, f.type, f.offset, f.size)])) as unknown as SyncRecord;
}

/** The header of a message to tsrun-init (its fields are u32s). */
export function messageHeader(kind: MessageKind, length: number): Buffer {
  const values: Record<string, number> = { kind: enumCode('MessageKind', kind), length };
  const buf = Buffer.alloc(FIXED.MessageHeader.size);
  for (const f of FIXED.MessageHeader.fields) buf.writeUInt32LE(values[f.name] ?? 0, f.offset);
  return buf;
}

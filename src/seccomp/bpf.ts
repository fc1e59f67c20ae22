// Classic BPF as seccomp runs it: 8-byte instructions (u16 code, u8 jt, u8 jf, u32 k) in
// host byte order, and a small assembler whose unconditional jumps name labels.
import { Internal } from '../errors.js';

export const BPF = {
  LD_W_ABS: 0x20,
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  JMP_JGT_K: 0x25,
  JMP_JSET_K: 0x45,
  RET_K: 0x06,
} as const;

/** struct seccomp_data offsets. */
export const SECCOMP_DATA = { nr: 0, arch: 4 } as const;

export const INSN_SIZE = 8;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

type Item = Insn | { label: string } | { ja: string };

export class Assembler {
  private items: Item[] = [];

  /** A conditional jump skips jt or jf instructions: short, so always in range. */
  insn(code: number, k: number, jt = 0, jf = 0): this {
    this.items.push({ code, jt, jf, k: k >>> 0 });
    return this;
  }

  ja(label: string): this {
    this.items.push({ ja: label });
    return this;
  }

  label(name: string): this {
    this.items.push({ label: name });
    return this;
  }

  /** The program; `end` is a label just past its last instruction. */
  assemble(): Insn[] {
    const at = new Map<string, number>();
    let pc = 0;
    for (const item of this.items) {
      if ('label' in item) at.set(item.label, pc);
      else pc++;
    }
    at.set('end', pc);
    const out: Insn[] = [];
    for (const item of this.items) {
      if ('label' in item) continue;
      if ('ja' in item) {
        const target = at.get(item.ja);
        if (target === undefined) throw new Internal(`bpf: no label ${item.ja}`);
        out.push({ code: BPF.JMP_JA, jt: 0, jf: 0, k: target - (out.length + 1) });
      } else {
        out.push(item);
      }
    }
    return out;
  }
}

export function encode(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * INSN_SIZE);
  insns.forEach((i, n) => {
    const o = n * INSN_SIZE;
    if (isLittleEndian) {
      buf.writeUInt16LE(i.code, o);
      buf.writeUInt32LE(i.k >>> 0, o + 4);
    } else {
      buf.writeUInt16BE(i.code, o);
      buf.writeUInt32BE(i.k >>> 0, o + 4);
    }
    buf.writeUInt8(i.jt, o + 2);
    buf.writeUInt8(i.jf, o + 3);
  });
  return buf;
}

export function decode(buf: Buffer): Insn[] {
  const out: Insn[] = [];
  for (let o = 0; o + INSN_SIZE <= buf.length; o += INSN_SIZE) {
    out.push({
      code: isLittleEndian ? buf.readUInt16LE(o) : buf.readUInt16BE(o),
      jt: buf.readUInt8(o + 2),
      jf: buf.readUInt8(o + 3),
      k: isLittleEndian ? buf.readUInt32LE(o + 4) : buf.readUInt32BE(o + 4),
    });
  }
  return out;
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

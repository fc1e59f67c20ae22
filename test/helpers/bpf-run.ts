// A classic BPF interpreter with seccomp's input (struct seccomp_data), to ask a filter what
// it answers for a syscall without making the syscall: for comparing the filter runc loads
// with ours, and for unit tests of the compiled programs.
import type { Insn } from '../../src/seccomp/bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  /** six arguments, unsigned 64-bit */
  args?: bigint[];
}

const MASK32 = 0xffffffffn;

function word(d: SeccompData, off: number): number {
  // Little-endian layout: nr @0, arch @4, ip @8, args[i] @16+8i (low word first).
  if (off === 0) return d.nr >>> 0;
  if (off === 4) return d.arch >>> 0;
  const field = off < 16 ? (d.ip ?? 0n) : (d.args?.[(off - 16) >> 3] ?? 0n);
  const high = (off & 4) !== 0;
  return Number((high ? field >> 32n : field) & MASK32);
}

/** Runs the program on d and returns the filter's verdict (SECCOMP_RET_* value). */
export function runFilter(prog: Insn[], d: SeccompData): number {
  let a = 0;
  let x = 0;
  const mem = new Array<number>(16).fill(0);
  for (let pc = 0, steps = 0; pc < prog.length && steps < 100_000; pc++, steps++) {
    const { code, jt, jf, k } = prog[pc] as Insn;
    const cls = code & 0x07;
    const src = code & 0x08 ? x : k;
    switch (cls) {
      case 0x00: // LD
        if ((code & 0xe0) === 0x20) a = word(d, k);
        else if ((code & 0xe0) === 0x00) a = k;
        else if ((code & 0xe0) === 0x60) a = mem[k] ?? 0;
        else if ((code & 0xe0) === 0x80) a = 64; // LEN: sizeof(struct seccomp_data)
        else throw new Error(`bpf: unsupported ld 0x${code.toString(16)}`);
        break;
      case 0x01: // LDX
        if ((code & 0xe0) === 0x00) x = k;
        else if ((code & 0xe0) === 0x60) x = mem[k] ?? 0;
        else if ((code & 0xe0) === 0x80) x = 64;
        else throw new Error(`bpf: unsupported ldx 0x${code.toString(16)}`);
        break;
      case 0x02: // ST
        mem[k] = a;
        break;
      case 0x03: // STX
        mem[k] = x;
        break;
      case 0x04: // ALU
        a = alu(code & 0xf0, a, src >>> 0);
        break;
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const v = src >>> 0;
        const ua = a >>> 0;
        const taken = op === 0x10 ? ua === v : op === 0x20 ? ua > v : op === 0x30 ? ua >= v : op === 0x40 ? (ua & v) !== 0 : undefined;
        if (taken === undefined) throw new Error(`bpf: unsupported jmp 0x${code.toString(16)}`);
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: // RET
        return ((code & 0x18) === 0x10 ? a : k) >>> 0;
      case 0x07: // MISC
        if ((code & 0xf8) === 0x00) x = a;
        else a = x;
        break;
    }
  }
  throw new Error('bpf: the program ran off its end');
}

function alu(op: number, a: number, v: number): number {
  switch (op) {
    case 0x00:
      return (a + v) >>> 0;
    case 0x10:
      return (a - v) >>> 0;
    case 0x20:
      return Math.imul(a, v) >>> 0;
    case 0x30:
      return v === 0 ? 0 : Math.floor((a >>> 0) / v) >>> 0;
    case 0x40:
      return (a | v) >>> 0;
    case 0x50:
      return (a & v) >>> 0;
    case 0x60:
      return (a << v) >>> 0;
    case 0x70:
      return a >>> v;
    case 0x80:
      return -a >>> 0;
    case 0x90:
      return v === 0 ? 0 : (a >>> 0) % v;
    case 0xa0:
      return (a ^ v) >>> 0;
    default:
      throw new Error(`bpf: unsupported alu 0x${op.toString(16)}`);
  }
}

/** Parses `probe seccomp-filter` output. */
export function parseFilterDump(text: string): Insn[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('insn '))
    .map((l) => {
      const [code, jt, jf, k] = l.slice(5).split(' ').map((h) => parseInt(h, 16));
      return { code: code ?? 0, jt: jt ?? 0, jf: jf ?? 0, k: k ?? 0 };
    });
}

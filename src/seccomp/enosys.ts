// The -ENOSYS stub runc puts in front of a filter (libcontainer/seccomp/patchbpf): a syscall
// numbered above every syscall the profile names gets ENOSYS instead of the default action.
// Such a syscall is newer than the profile, and programs (glibc's clone3 first) fall back
// to an older call on ENOSYS, but treat EPERM as a real refusal.
//
// Like runc since 1.1.14 (and unlike 1.1.5), the native architecture always gets a stub,
// also when the profile lists no architectures.
import { Assembler, BPF, SECCOMP_DATA, encode } from './bpf.js';
import { AUDIT_ARCH_X86_64, ENOSYS, SCMP_ARCH_X32, X32_SYSCALL_BIT } from './names.js';

export interface ArchMax {
  /** libseccomp's SCMP_ARCH_* token */
  token: number;
  /** the largest syscall number the profile names on this arch (x32's with the x32 bit) */
  max: number;
}

const RET_ENOSYS = 0x00050000 + ENOSYS;
const S390 = 0x16;
const S390X = 0x80000016;

/** The arch a syscall reports in seccomp_data: x32 shares x86_64's. */
function auditArch(token: number): number {
  return token === SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
}

/** "Above max: ENOSYS; else on to the filter." */
function checkMax(a: Assembler, max: number): void {
  a.insn(BPF.JMP_JGT_K, max, 0, 1).ja('enosys').ja('end');
}

/** The stub's instructions, to prepend to libseccomp's program ('end' is its first). */
export function enosysStub(arches: ArchMax[]): Buffer {
  const groups = new Map<number, Map<number, number>>();
  for (const { token, max } of arches) {
    if (max <= 0) continue;
    const audit = auditArch(token);
    const group = groups.get(audit) ?? new Map<number, number>();
    group.set(token, Math.max(max, group.get(token) ?? 0));
    groups.set(audit, group);
  }
  if (groups.size === 0) return Buffer.alloc(0);
  const a = new Assembler();
  a.insn(BPF.LD_W_ABS, SECCOMP_DATA.arch);
  for (const audit of groups.keys()) a.insn(BPF.JMP_JEQ_K, audit, 0, 1).ja(`arch-${audit}`);
  a.ja('end');
  for (const [audit, group] of groups) {
    a.label(`arch-${audit}`).insn(BPF.LD_W_ABS, SECCOMP_DATA.nr);
    if (audit === AUDIT_ARCH_X86_64) {
      const x64 = group.get(AUDIT_ARCH_X86_64);
      const x32 = group.get(SCMP_ARCH_X32);
      if (x64 !== undefined && x32 !== undefined) {
        // x32 calls set bit 30 of the number: each ABI against its own largest.
        a.insn(BPF.JMP_JSET_K, X32_SYSCALL_BIT, 3, 0);
        checkMax(a, x64);
        checkMax(a, x32);
      } else if (x64 !== undefined) {
        a.insn(BPF.JMP_JSET_K, X32_SYSCALL_BIT, 0, 1).ja('end');
        checkMax(a, x64);
      } else if (x32 !== undefined) {
        a.insn(BPF.JMP_JSET_K, X32_SYSCALL_BIT, 1, 0).ja('end');
        checkMax(a, x32);
      }
      continue;
    }
    // s390 multiplexes syscalls it does not know onto number 0, once setup(2).
    if (audit === S390 || audit === S390X) a.insn(BPF.JMP_JEQ_K, 0, 0, 1).ja('enosys');
    for (const max of group.values()) checkMax(a, max);
  }
  a.label('enosys').insn(BPF.RET_K, RET_ENOSYS);
  return encode(a.assemble());
}

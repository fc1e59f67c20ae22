// The names the OCI runtime-spec takes from libseccomp's seccomp.h and the kernel's
// linux/seccomp.h, with the numbers they stand for.
import { constants as os } from 'node:os';

/** SCMP_ACT_* base values; ERRNO and TRACE carry a 16-bit value in the low bits. */
export const ACTIONS: Readonly<Record<string, number>> = {
  // libseccomp's SCMP_ACT_KILL is the thread variant, and so is runc's.
  SCMP_ACT_KILL: 0x00000000,
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};

/** Actions that take errnoRet; without one they return EPERM, as runc does. */
export const ACTIONS_WITH_ERRNO: ReadonlySet<string> = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

export const { EPERM, ENOSYS } = os.errno;

export const ACT_ALLOW = ACTIONS.SCMP_ACT_ALLOW as number;
export const ACT_NOTIFY = ACTIONS.SCMP_ACT_NOTIFY as number;

/** The full action value: base plus the errno (or trace message) in the low 16 bits. */
export function actionValue(name: string, errnoRet?: number): number | undefined {
  const base = ACTIONS[name];
  if (base === undefined) return undefined;
  if (!ACTIONS_WITH_ERRNO.has(name)) return base;
  return base + ((errnoRet ?? EPERM) & 0xffff);
}

/** Actions under which a program runs on as if unfiltered: no -ENOSYS stub in front of them. */
export function isPermissive(action: number): boolean {
  const base = (action & 0xffff0000) >>> 0;
  return base === ACT_ALLOW || base === ACTIONS.SCMP_ACT_LOG || base === ACTIONS.SCMP_ACT_TRACE;
}

/** libseccomp's enum scmp_compare. */
export const OPERATORS: Readonly<Record<string, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** Syscalls take at most six arguments: indexes 0 to 5. */
export const MAX_ARG_INDEX = 5;

/** OCI architecture names -> libseccomp's arch names. */
export const ARCHITECTURES: Readonly<Record<string, string>> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
};

/** seccomp(2) SECCOMP_FILTER_FLAG_* bits. */
export const FLAG_TSYNC = 1 << 0;
export const FLAG_LOG = 1 << 1;
export const FLAG_SPEC_ALLOW = 1 << 2;
export const FLAG_NEW_LISTENER = 1 << 3;
export const FLAG_WAIT_KILLABLE_RECV = 1 << 5;

/** The flags a profile may name. */
export const FILTER_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG: FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: FLAG_WAIT_KILLABLE_RECV,
};

/** Instruction limit of a classic BPF program (BPF_MAXINSNS). */
export const MAX_INSTRUCTIONS = 4096;

/** AUDIT_ARCH_X86_64, which x32 syscalls report too (with the x32 bit in the number). */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** libseccomp's made-up token for x32. */
export const SCMP_ARCH_X32 = 0x4000003e;
export const X32_SYSCALL_BIT = 0x40000000;

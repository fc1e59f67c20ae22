// The addon's seccomp area (cpp/napi/seccomp.cc, seccomp_agent.cc), typed.
import { call, type Addon } from './addon.js';

export interface NativeCondition {
  index: number;
  /** libseccomp's enum scmp_compare */
  op: number;
  value: bigint;
  valueTwo: bigint;
}

export interface NativeRule {
  name: string;
  /** a full SCMP_ACT_* value, errno included */
  action: number;
  args: NativeCondition[];
}

export interface NativeCompileRequest {
  defaultAction: number;
  /** libseccomp's arch names ("x86_64", "x32"...), besides the native one */
  arches: string[];
  optimize: boolean;
  rules: NativeRule[];
}

export interface NativeCompileResult {
  /** struct sock_filter[], host byte order */
  bpf: Buffer;
  /** indexes of rules whose syscall libseccomp does not know */
  unknown: number[];
}

interface SeccompAddon {
  seccomp: {
    compile(req: NativeCompileRequest): NativeCompileResult;
    resolve(token: number, names: string[]): number[];
    archToken(arch: string): number;
    nativeArch(): number;
    flagsSupported(flags: number): boolean;
    version(): string;
  };
  pidfdGetfd(pidfd: number, fd: number): number;
  sendWithFds(path: string, payload: Buffer, fds: number[]): void;
}

/** The seccomp functions of the addon, typed here where they are used. */
const native = (addon: Addon): SeccompAddon => addon as unknown as SeccompAddon;

/** Compiles with libseccomp; a rule libseccomp refuses gives a SystemError whose index is the rule's. */
export function compileFilter(req: NativeCompileRequest): NativeCompileResult {
  return call((a) => native(a).seccomp.compile(req));
}

/** Syscall numbers on an arch (SCMP_ARCH_* token) as a filter sees them; negative when it has no such syscall. */
export function resolveSyscalls(token: number, names: string[]): number[] {
  return call((a) => native(a).seccomp.resolve(token, names));
}

/** libseccomp's SCMP_ARCH_* token for an arch name. */
export function archToken(arch: string): number {
  return call((a) => native(a).seccomp.archToken(arch));
}

export function nativeArchToken(): number {
  return call((a) => native(a).seccomp.nativeArch());
}

/** Whether the running kernel takes these SECCOMP_FILTER_FLAG_* bits. */
export function seccompFlagsSupported(flags: number): boolean {
  return call((a) => native(a).seccomp.flagsSupported(flags));
}

export function libseccompVersion(): string {
  return call((a) => native(a).seccomp.version());
}

/** A close-on-exec copy of another process's fd (pidfd_getfd). */
export function pidfdGetfd(pidfd: number, fd: number): number {
  return call((a) => native(a).pidfdGetfd(pidfd, fd));
}

/** Connects to a unix stream socket, sends payload with fds (SCM_RIGHTS), closes. */
export function sendWithFds(path: string, payload: Buffer, fds: number[]): void {
  call((a) => native(a).sendWithFds(path, payload, fds));
}

// Seccomp profiles for tests and benchmarks, generated here rather than downloaded:
//
// - containerdDefault(bounding): what containerd 1.6's contrib/seccomp DefaultProfile gives
//   `ctr run --seccomp` on amd64 (the rules are containerd's data; the generator is ours).
//   test/integration/seccomp-containerd.test.ts checks it against what ctr 1.6.20 on this
//   machine actually writes into config.json.
// - dockerStyle(): the same allow-list in the shape of moby's profiles/seccomp/default.json
//   (defaultErrnoRet, socket filtered by family, personality by argument, clone by flags,
//   clone3 -> ENOSYS), one rule per syscall: several hundred rules.
// - ofRules(n): the first n rules of dockerStyle(), keeping what a busybox program needs.
// - olderAllowlist(): one allow rule over containerd's list without the syscalls newer than
//   what runc 1.1's init makes (close_range, faccessat2, openat2, clone3, pidfd_*), the
//   shape of lists traced under runc (podman's oci-seccomp-bpf-hook) or of older defaults.
// The allow-list itself lives with the conformance suite, which uses it on its own.
import { defaultSpec } from '../../src/oci/defaults.js';
import type { Config } from '../../src/oci/spec.js';
import { parseConfig } from '../../src/oci/validate.js';
import { CONTAINERD_ALLOWED, type Profile } from '../../spec-conformance/lib/seccomp-allowlist.js';

export { CONTAINERD_ALLOWED, NEWER_SYSCALLS, olderAllowlist, type Profile } from '../../spec-conformance/lib/seccomp-allowlist.js';

/** personality(2) values containerd and docker let through: PER_LINUX, PER_LINUX32, UNAME26 variants, query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP: clone without them is allowed. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** Syscalls containerd adds per capability in the bounding set, in containerd's order of checks. */
const BY_CAPABILITY: Record<string, string[]> = {
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount',
    'mount_setattr', 'move_mount', 'name_to_handle_at', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd',
    'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

const allow = (names: string[], args?: Profile[]): Profile => ({ names, action: 'SCMP_ACT_ALLOW', ...(args ? { args } : {}) });

/** containerd 1.6's DefaultProfile for a process with this bounding set, on amd64 (kernel >= 4.8). */
export function containerdDefault(bounding: string[]): Profile {
  const syscalls: Profile[] = [
    allow(CONTAINERD_ALLOWED),
    ...PERSONALITIES.map((value) => allow(['personality'], [{ index: 0, value, op: 'SCMP_CMP_EQ' }])),
    allow(['ptrace']),
    allow(['arch_prctl', 'modify_ldt']),
  ];
  for (const cap of bounding) {
    const names = BY_CAPABILITY[cap];
    if (names) syscalls.push(allow(names));
  }
  if (!bounding.includes('CAP_SYS_ADMIN')) {
    syscalls.push(allow(['clone'], [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }]));
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  }
  return { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls };
}

/** AF_VSOCK: the one socket family moby's profile refuses. */
const AF_VSOCK = 40;

/** A moby-shaped profile with one rule per syscall (about 360 rules). */
export function dockerStyle(): Profile {
  const plain = CONTAINERD_ALLOWED.filter((n) => n !== 'socket');
  const syscalls: Profile[] = [
    ...plain.map((name) => allow([name])),
    allow(['ptrace']),
    allow(['arch_prctl']),
    allow(['modify_ldt']),
    allow(['socket'], [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }]),
    ...PERSONALITIES.map((value) => allow(['personality'], [{ index: 0, value, op: 'SCMP_CMP_EQ' }])),
    allow(['clone'], [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }]),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    allow(['chroot']),
  ];
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls,
  };
}

/** What a busybox program in a container needs, besides what runc and tsrun-init do before exec. */
const ESSENTIAL = new Set([
  'execve', 'brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'mprotect', 'mmap',
  'munmap', 'getuid', 'getgid', 'geteuid', 'getegid', 'getpid', 'getppid', 'read', 'write', 'close', 'exit',
  'exit_group', 'openat', 'newfstatat', 'fstat', 'ioctl', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn',
  'futex', 'fcntl', 'dup2', 'dup3', 'getcwd', 'uname', 'wait4', 'clone', 'fork', 'vfork', 'nanosleep',
  'clock_nanosleep', 'sched_yield', 'getdents64', 'capget', 'capset', 'prctl', 'setgroups', 'setresuid',
  'setresgid', 'chdir', 'close_range', 'epoll_pwait', 'epoll_ctl', 'personality',
]);

/** A profile of exactly n rules, all from dockerStyle(), the essential ones first. */
export function ofRules(n: number): Profile {
  const p = dockerStyle();
  const rules = p.syscalls as Profile[];
  const essential = rules.filter((r) => (r.names as string[]).some((name) => ESSENTIAL.has(name)));
  const rest = rules.filter((r) => !essential.includes(r));
  if (n < essential.length || n > rules.length) throw new Error(`ofRules: between ${essential.length} and ${rules.length} rules`);
  return { ...p, syscalls: [...essential, ...rest.slice(0, n - essential.length)] };
}

/** tsrun spec's config with linux.seccomp set to the profile, parsed as create parses it. */
export function configWithSeccomp(seccomp: Profile | undefined): Config {
  const c = defaultSpec() as Profile;
  c.linux.seccomp = seccomp;
  const r = parseConfig(JSON.stringify(c));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

// Structure-aware config.json generation for fuzzing: runc spec's default config with a few
// fields set to odd, wrong-typed, out-of-range or plausible-but-wrong values, so that most
// cases get past JSON and schema checks and reach the deeper judges (plan builder, cgroup
// resources, seccomp, devices).
import fc from 'fast-check';
import { defaultSpec } from '../../src/oci/defaults.js';
import type { AnyConfig } from './bundle.js';

const DELETE = Symbol('delete');

const strings = fc.oneof(
  fc.constantFrom('', '/', 'relative', '../../..', '/proc', '/proc/self/fd/3', '/dev/null', '/sys', '/tmp', '/a/../../b', 'a\u0000b', '\u00e9', ' ', 'x'.repeat(5000)),
  fc.constantFrom('CAP_SYS_ADMIN', 'CAP_NOPE', 'pid', 'mount', 'user', 'time', 'network', 'cgroup', 'bind', 'rbind', 'tmpfs', 'proc', 'ro', 'rw', 'nosuid', 'rprivate', 'shared', 'slave', 'idmap', 'size=1k', 'mode=7777'),
  fc.constantFrom('SCMP_ACT_ERRNO', 'SCMP_ACT_ALLOW', 'SCMP_ACT_NOTIFY', 'SCMP_ARCH_X86_64', 'SCMP_CMP_EQ', 'RLIMIT_NOFILE', 'RLIMIT_NOPE', 'a', 'c', 'b', 'u', 'p', 'rwm', 'IOPRIO_CLASS_RT', 'SCHED_FIFO'),
  fc.string({ maxLength: 20 }),
);
const numbers = fc.oneof(
  fc.constantFrom(0, -1, 1, 1.5, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 63), 1e308, -0),
  fc.integer(),
);
const leaf = fc.oneof(strings, numbers, fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(strings, tie('v'), { maxKeys: 3 })),
})).v;

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const mount = fc.record({ destination: opt(strings), type: opt(strings), source: opt(strings), options: opt(fc.array(strings, { maxLength: 4 })), uidMappings: opt(value), gidMappings: opt(value) }, { requiredKeys: [] });
const idMap = fc.record({ containerID: numbers, hostID: numbers, size: numbers }, { requiredKeys: [] });
const namespace = fc.record({ type: strings, path: opt(strings) }, { requiredKeys: ['type'] });
const rlimit = fc.record({ type: strings, soft: numbers, hard: numbers }, { requiredKeys: [] });
const device = fc.record({ type: strings, path: strings, major: numbers, minor: numbers, fileMode: numbers, uid: numbers, gid: numbers }, { requiredKeys: [] });
const devRule = fc.record({ allow: fc.boolean(), type: strings, major: numbers, minor: numbers, access: strings }, { requiredKeys: [] });
const seccomp = fc.record(
  {
    defaultAction: strings,
    defaultErrnoRet: numbers,
    architectures: fc.array(strings, { maxLength: 2 }),
    flags: fc.array(strings, { maxLength: 2 }),
    listenerPath: strings,
    syscalls: fc.array(fc.record({ names: fc.array(strings, { maxLength: 3 }), action: strings, errnoRet: numbers, args: fc.array(fc.record({ index: numbers, value: numbers, valueTwo: numbers, op: strings }, { requiredKeys: [] }), { maxLength: 2 }) }, { requiredKeys: [] }), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);
const hook = fc.record({ path: strings, args: fc.array(strings, { maxLength: 2 }), env: fc.array(strings, { maxLength: 2 }), timeout: numbers }, { requiredKeys: [] });

type Path = (string | number)[];
const fieldValues: [Path, fc.Arbitrary<unknown>][] = [
  [['ociVersion'], strings],
  [['root', 'path'], strings],
  [['root', 'readonly'], value],
  [['hostname'], strings],
  [['domainname'], strings],
  [['process', 'args'], fc.array(strings, { maxLength: 3 })],
  [['process', 'cwd'], strings],
  [['process', 'env'], fc.array(strings, { maxLength: 3 })],
  [['process', 'terminal'], value],
  [['process', 'user', 'uid'], numbers],
  [['process', 'user', 'gid'], numbers],
  [['process', 'user', 'additionalGids'], fc.array(numbers, { maxLength: 3 })],
  [['process', 'user', 'umask'], numbers],
  [['process', 'capabilities', 'bounding'], fc.array(strings, { maxLength: 3 })],
  [['process', 'capabilities', 'effective'], fc.array(strings, { maxLength: 3 })],
  [['process', 'rlimits'], fc.array(rlimit, { maxLength: 3 })],
  [['process', 'oomScoreAdj'], numbers],
  [['process', 'noNewPrivileges'], value],
  [['process', 'apparmorProfile'], strings],
  [['process', 'selinuxLabel'], strings],
  [['process', 'ioPriority'], fc.record({ class: strings, priority: numbers }, { requiredKeys: [] })],
  [['process', 'scheduler'], fc.record({ policy: strings, nice: numbers, priority: numbers, flags: fc.array(strings, { maxLength: 2 }), runtime: numbers, deadline: numbers, period: numbers }, { requiredKeys: [] })],
  [['process', 'execCPUAffinity'], fc.record({ initial: strings, final: strings }, { requiredKeys: [] })],
  [['process', 'consoleSize'], fc.record({ height: numbers, width: numbers }, { requiredKeys: [] })],
  [['mounts'], fc.array(mount, { maxLength: 3 })],
  [['mounts', 0, 'destination'], strings],
  [['mounts', 1, 'options'], fc.array(strings, { maxLength: 4 })],
  [['linux', 'namespaces'], fc.array(namespace, { maxLength: 6 })],
  [['linux', 'uidMappings'], fc.array(idMap, { maxLength: 2 })],
  [['linux', 'gidMappings'], fc.array(idMap, { maxLength: 2 })],
  [['linux', 'devices'], fc.array(device, { maxLength: 2 })],
  [['linux', 'resources', 'devices'], fc.array(devRule, { maxLength: 3 })],
  [['linux', 'resources', 'memory'], fc.record({ limit: numbers, reservation: numbers, swap: numbers, kernel: numbers, swappiness: numbers, disableOOMKiller: value }, { requiredKeys: [] })],
  [['linux', 'resources', 'cpu'], fc.record({ shares: numbers, quota: numbers, period: numbers, realtimeRuntime: numbers, realtimePeriod: numbers, cpus: strings, mems: strings, idle: numbers }, { requiredKeys: [] })],
  [['linux', 'resources', 'pids'], fc.record({ limit: numbers }, { requiredKeys: [] })],
  [['linux', 'resources', 'blockIO'], value],
  [['linux', 'resources', 'hugepageLimits'], fc.array(fc.record({ pageSize: strings, limit: numbers }, { requiredKeys: [] }), { maxLength: 2 })],
  [['linux', 'resources', 'unified'], fc.dictionary(strings, strings, { maxKeys: 2 })],
  [['linux', 'resources', 'network'], value],
  [['linux', 'resources', 'rdma'], value],
  [['linux', 'cgroupsPath'], strings],
  [['linux', 'seccomp'], seccomp],
  [['linux', 'sysctl'], fc.dictionary(strings, strings, { maxKeys: 2 })],
  [['linux', 'maskedPaths'], fc.array(strings, { maxLength: 3 })],
  [['linux', 'readonlyPaths'], fc.array(strings, { maxLength: 3 })],
  [['linux', 'rootfsPropagation'], strings],
  [['linux', 'mountLabel'], strings],
  [['linux', 'timeOffsets'], fc.dictionary(strings, fc.record({ secs: numbers, nanosecs: numbers }, { requiredKeys: [] }), { maxKeys: 2 })],
  [['linux', 'personality'], fc.record({ domain: strings, flags: fc.array(strings, { maxLength: 2 }) }, { requiredKeys: [] })],
  [['linux', 'intelRdt'], value],
  [['linux', 'netDevices'], value],
  [['hooks', 'prestart'], fc.array(hook, { maxLength: 2 })],
  [['hooks', 'createRuntime'], fc.array(hook, { maxLength: 2 })],
  [['annotations'], fc.dictionary(strings, strings, { maxKeys: 2 })],
];

/** One edit: a field and its new value (any value, sometimes), or the field removed. */
const editOf = (fields: [Path, fc.Arbitrary<unknown>][]) => fc.integer({ min: 0, max: fields.length - 1 }).chain((i) => {
  const [path, typed] = fields[i] as [Path, fc.Arbitrary<unknown>];
  return fc.tuple(fc.constant(path), fc.oneof({ weight: 6, arbitrary: typed }, { weight: 1, arbitrary: value }, { weight: 1, arbitrary: fc.constant<unknown>(DELETE) }));
});

function apply(c: AnyConfig, path: Path, v: unknown): void {
  let at: AnyConfig = c;
  for (const key of path.slice(0, -1)) {
    if (at[key] === null || typeof at[key] !== 'object') at[key] = typeof key === 'number' ? [] : {};
    at = at[key] as AnyConfig;
  }
  const last = path[path.length - 1] as string | number;
  if (v === DELETE) delete at[last];
  else at[last] = v;
}

/**
 * A whole config.json (as an object), with one to four fields edited. `exclude` names fields
 * (dotted prefixes) left alone, for runs on the real host: a random cgroupsPath, hook,
 * sysctl, joined namespace or shared root propagation could reach outside the test's own.
 */
export function configArb(base: () => AnyConfig = () => defaultSpec() as AnyConfig, exclude: string[] = []): fc.Arbitrary<AnyConfig> {
  const fields = fieldValues.filter(([p]) => !exclude.some((e) => p.join('.').startsWith(e)));
  return fc.array(editOf(fields), { minLength: 1, maxLength: 4 }).map((edits) => {
    const c = base();
    for (const [path, v] of edits) apply(c, path, v);
    return c;
  });
}

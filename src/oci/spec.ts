// The OCI runtime-spec config.json (config.md, config-linux.md), as zod schemas and the
// types they infer. Structure only: what needs more than one field to judge lives in
// validate.ts. Unknown properties are dropped, as runc's Go decoder ignores them, and null
// members are left out before (go-json.ts).
//
// zod/mini rather than zod's classic API: a classic schema carries a closure per method
// (optional, nullable, refine...), built for each of the ~200 schemas here at load, which
// every CLI command paid for (measured: ~400 small schemas take 30 ms to load and build
// classic, 14 ms mini). The parse and its issues are the same zod core.
import en from 'zod/v4/locales/en.js';
import * as z from 'zod/mini';

// zod compiles a parser for each object schema on first use (new Function). That pays off
// over many parses; a process here parses one config.json (the CLI) or one per container
// (a shim server, most of which serve one container). Measured on this machine: the first
// parse of a config 20-50 ms compiled, 4-20 ms without.
// zod/mini loads no messages of its own: English ones, as the classic API has.
z.config({ jitless: true, ...en() });

const MAX_U64 = 2n ** 64n - 1n;

function build() {
  const u32 = z.int().check(z.minimum(0), z.maximum(0xffffffff));
  const i64 = z.int();
  /** JSON numbers past 2^53 arrive rounded; anything at or past 2^64 means "all ones". */
  const u64 = z.pipe(
    z.number().check(
      z.minimum(0),
      z.refine((n) => Number.isInteger(n), 'must be an integer'),
    ),
    z.transform((n: number) => (n >= 2 ** 64 ? MAX_U64 : BigInt(n))),
  );

  const IdMapping = z.object({
    containerID: u32,
    hostID: u32,
    size: u32,
  });

  const Mount = z.object({
    destination: z.string(),
    source: z.optional(z.string()),
    options: z.optional(z.array(z.string())),
    type: z.optional(z.string()),
    uidMappings: z.optional(z.array(IdMapping)),
    gidMappings: z.optional(z.array(IdMapping)),
  });

  const Rlimit = z.object({
    type: z.string(),
    hard: u64,
    soft: u64,
  });

  const Capabilities = z.object({
    bounding: z.optional(z.array(z.string())),
    effective: z.optional(z.array(z.string())),
    inheritable: z.optional(z.array(z.string())),
    permitted: z.optional(z.array(z.string())),
    ambient: z.optional(z.array(z.string())),
  });

  // Go's zero values: a process without `user` (or without uid, gid) runs as 0:0 in runc.
  const User = z.object({
    uid: z._default(u32, 0),
    gid: z._default(u32, 0),
    umask: z.optional(u32),
    additionalGids: z.optional(z.array(u32)),
    username: z.optional(z.string()),
  });

  const Process = z.object({
    terminal: z.optional(z.boolean()),
    consoleSize: z.optional(z.object({ height: z._default(u32, 0), width: z._default(u32, 0) })),
    user: z._default(User, () => ({ uid: 0, gid: 0 })),
    args: z.optional(z.array(z.string())),
    commandLine: z.optional(z.string()),
    env: z.optional(z.array(z.string())),
    cwd: z.string(),
    capabilities: z.optional(Capabilities),
    rlimits: z.optional(z.array(Rlimit)),
    noNewPrivileges: z.optional(z.boolean()),
    apparmorProfile: z.optional(z.string()),
    oomScoreAdj: z.optional(z.int()),
    selinuxLabel: z.optional(z.string()),
    ioPriority: z.optional(z.object({ class: z.string(), priority: z.optional(z.int()) })),
    scheduler: z.optional(z.object({
      policy: z.string(),
      nice: z.optional(z.int()),
      priority: z.optional(z.int()),
      flags: z.optional(z.array(z.string())),
      runtime: z.optional(u64),
      deadline: z.optional(u64),
      period: z.optional(u64),
    })),
    execCPUAffinity: z.optional(z.object({ initial: z.optional(z.string()), final: z.optional(z.string()) })),
  });

  const Hook = z.object({
    path: z.string(),
    args: z.optional(z.array(z.string())),
    env: z.optional(z.array(z.string())),
    timeout: z.optional(z.int()),
  });

  const Hooks = z.object({
    prestart: z.optional(z.array(Hook)),
    createRuntime: z.optional(z.array(Hook)),
    createContainer: z.optional(z.array(Hook)),
    startContainer: z.optional(z.array(Hook)),
    poststart: z.optional(z.array(Hook)),
    poststop: z.optional(z.array(Hook)),
  });

  const Namespace = z.object({
    type: z.string(),
    path: z.optional(z.string()),
  });

  const Device = z.object({
    type: z.string(),
    path: z.string(),
    major: z.optional(i64),
    minor: z.optional(i64),
    fileMode: z.optional(u32),
    uid: z.optional(u32),
    gid: z.optional(u32),
  });

  const DeviceRule = z.object({
    allow: z._default(z.boolean(), false),
    type: z.optional(z.string()),
    major: z.optional(z.nullable(i64)),
    minor: z.optional(z.nullable(i64)),
    access: z.optional(z.string()),
  });

  const WeightDevice = z.object({
    major: i64,
    minor: i64,
    weight: z.optional(z.int()),
    leafWeight: z.optional(z.int()),
  });
  const ThrottleDevice = z.object({ major: i64, minor: i64, rate: u64 });

  const Resources = z.object({
    devices: z.optional(z.array(DeviceRule)),
    memory: z.optional(z.object({
      limit: z.optional(i64),
      reservation: z.optional(i64),
      swap: z.optional(i64),
      kernel: z.optional(i64),
      kernelTCP: z.optional(i64),
      swappiness: z.optional(u64),
      disableOOMKiller: z.optional(z.boolean()),
      useHierarchy: z.optional(z.boolean()),
      checkBeforeUpdate: z.optional(z.boolean()),
    })),
    cpu: z.optional(z.object({
      shares: z.optional(u64),
      quota: z.optional(i64),
      burst: z.optional(u64),
      period: z.optional(u64),
      realtimeRuntime: z.optional(i64),
      realtimePeriod: z.optional(u64),
      cpus: z.optional(z.string()),
      mems: z.optional(z.string()),
      idle: z.optional(i64),
    })),
    // runc 1.1: a limit of 0 (or none) leaves pids.max as it is
    pids: z.optional(z.object({ limit: z._default(i64, 0) })),
    blockIO: z.optional(z.object({
      weight: z.optional(z.int()),
      leafWeight: z.optional(z.int()),
      weightDevice: z.optional(z.array(WeightDevice)),
      throttleReadBpsDevice: z.optional(z.array(ThrottleDevice)),
      throttleWriteBpsDevice: z.optional(z.array(ThrottleDevice)),
      throttleReadIOPSDevice: z.optional(z.array(ThrottleDevice)),
      throttleWriteIOPSDevice: z.optional(z.array(ThrottleDevice)),
    })),
    hugepageLimits: z.optional(z.array(z.object({ pageSize: z.string(), limit: u64 }))),
    network: z.optional(z.object({
      classID: z.optional(u32),
      priorities: z.optional(z.array(z.object({ name: z.string(), priority: u32 }))),
    })),
    rdma: z.optional(z.record(z.string(), z.object({ hcaHandles: z.optional(u32), hcaObjects: z.optional(u32) }))),
    unified: z.optional(z.record(z.string(), z.string())),
  });

  const SeccompArg = z.object({
    index: z.int(),
    value: u64,
    valueTwo: z.optional(u64),
    op: z.string(),
  });

  const Seccomp = z.object({
    defaultAction: z.string(),
    defaultErrnoRet: z.optional(u32),
    architectures: z.optional(z.array(z.string())),
    flags: z.optional(z.array(z.string())),
    listenerPath: z.optional(z.string()),
    listenerMetadata: z.optional(z.string()),
    syscalls: z.optional(z.array(
      z.object({
        names: z.array(z.string()),
        action: z.string(),
        errnoRet: z.optional(u32),
        args: z.optional(z.array(SeccompArg)),
      }),
    )),
  });

  const Linux = z.object({
    namespaces: z.optional(z.array(Namespace)),
    uidMappings: z.optional(z.array(IdMapping)),
    gidMappings: z.optional(z.array(IdMapping)),
    timeOffsets: z.optional(z.record(z.string(), z.object({ secs: z.optional(i64), nanosecs: z.optional(u32) }))),
    devices: z.optional(z.array(Device)),
    cgroupsPath: z.optional(z.string()),
    resources: z.optional(Resources),
    rootfsPropagation: z.optional(z.string()),
    seccomp: z.optional(Seccomp),
    sysctl: z.optional(z.record(z.string(), z.string())),
    maskedPaths: z.optional(z.array(z.string())),
    readonlyPaths: z.optional(z.array(z.string())),
    mountLabel: z.optional(z.string()),
    intelRdt: z.optional(z.object({
      closID: z.optional(z.string()),
      l3CacheSchema: z.optional(z.string()),
      memBwSchema: z.optional(z.string()),
      schemata: z.optional(z.array(z.string())),
      enableMonitoring: z.optional(z.boolean()),
    })),
    personality: z.optional(z.object({ domain: z.string(), flags: z.optional(z.array(z.string())) })),
    netDevices: z.optional(z.record(z.string(), z.object({ name: z.optional(z.string()) }))),
    memoryPolicy: z.optional(z.record(z.string(), z.unknown())),
  });

  const Config = z.object({
    ociVersion: z.string(),
    process: z.optional(Process),
    root: z.optional(z.object({ path: z.string(), readonly: z.optional(z.boolean()) })),
    hostname: z.optional(z.string()),
    domainname: z.optional(z.string()),
    mounts: z.optional(z.array(Mount)),
    hooks: z.optional(Hooks),
    annotations: z.optional(z.record(z.string(), z.string())),
    linux: z.optional(Linux),
  });
  return { IdMapping, Mount, Rlimit, Capabilities, User, Process, Hook, Hooks, Namespace, Device, DeviceRule, Resources, SeccompArg, Seccomp, Linux, Config };
}

export type Schemas = ReturnType<typeof build>;

// Built, the schemas are ~0.4 MiB of objects. A CLI command needs them once; a shim server
// needs them while containers are created or updated, and then serves for days without: it
// keeps them only as long as the garbage collector lets it, and builds them again (~2 ms)
// when next needed.
let cached: WeakRef<Schemas> | undefined;

/** The config.json schemas, built on first use. */
export function schemas(): Schemas {
  let s = cached?.deref();
  if (!s) {
    s = build();
    cached = new WeakRef(s);
  }
  return s;
}

export type Config = z.infer<Schemas['Config']>;
export type ProcessSpec = z.infer<Schemas['Process']>;
/** A process as a caller may give it: what the schema fills in (user) may be left out. */
export type ProcessInput = z.input<Schemas['Process']>;
export type ResourcesInput = z.input<Schemas['Resources']>;
export type MountSpec = z.infer<Schemas['Mount']>;
export type LinuxSpec = z.infer<Schemas['Linux']>;
export type DeviceSpec = z.infer<Schemas['Device']>;
export type DeviceRuleSpec = z.infer<Schemas['DeviceRule']>;
export type ResourcesSpec = z.infer<Schemas['Resources']>;
export type NamespaceSpec = z.infer<Schemas['Namespace']>;
export type IdMappingSpec = z.infer<Schemas['IdMapping']>;

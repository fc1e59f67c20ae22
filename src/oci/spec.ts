// The OCI runtime-spec config.json (config.md, config-linux.md), as zod schemas and the
// types they infer. Structure only: what needs more than one field to judge lives in
// validate.ts. Unknown properties are dropped, as runc's Go decoder ignores them.
import { z } from 'zod';

// zod compiles a parser for each object schema on first use (new Function). That pays off
// over many parses; a process here parses one config.json (the CLI) or one per container
// (a shim server, most of which serve one container). Measured on this machine: the first
// parse of a config 20-50 ms compiled, 4-20 ms without.
z.config({ jitless: true });

const MAX_U64 = 2n ** 64n - 1n;

const u32 = z.number().int().min(0).max(0xffffffff);
const i64 = z.number().int();
/** JSON numbers past 2^53 arrive rounded; anything at or past 2^64 means "all ones". */
const u64 = z
  .number()
  .min(0)
  .refine((n) => Number.isInteger(n), 'must be an integer')
  .transform((n) => (n >= 2 ** 64 ? MAX_U64 : BigInt(n)));

export const IdMapping = z.object({
  containerID: u32,
  hostID: u32,
  size: u32,
});

export const Mount = z.object({
  destination: z.string(),
  source: z.string().optional(),
  options: z.array(z.string()).optional(),
  type: z.string().optional(),
  uidMappings: z.array(IdMapping).optional(),
  gidMappings: z.array(IdMapping).optional(),
});

export const Rlimit = z.object({
  type: z.string(),
  hard: u64,
  soft: u64,
});

export const Capabilities = z.object({
  bounding: z.array(z.string()).optional(),
  effective: z.array(z.string()).optional(),
  inheritable: z.array(z.string()).optional(),
  permitted: z.array(z.string()).optional(),
  ambient: z.array(z.string()).optional(),
});

export const User = z.object({
  uid: u32,
  gid: u32,
  umask: u32.optional(),
  additionalGids: z.array(u32).optional(),
  username: z.string().optional(),
});

export const Process = z.object({
  terminal: z.boolean().optional(),
  consoleSize: z.object({ height: u32, width: u32 }).optional(),
  user: User,
  args: z.array(z.string()).optional(),
  commandLine: z.string().optional(),
  env: z.array(z.string()).optional(),
  cwd: z.string(),
  capabilities: Capabilities.optional(),
  rlimits: z.array(Rlimit).optional(),
  noNewPrivileges: z.boolean().optional(),
  apparmorProfile: z.string().optional(),
  oomScoreAdj: z.number().int().optional(),
  selinuxLabel: z.string().optional(),
  ioPriority: z.object({ class: z.string(), priority: z.number().int().optional() }).optional(),
  scheduler: z
    .object({
      policy: z.string(),
      nice: z.number().int().optional(),
      priority: z.number().int().optional(),
      flags: z.array(z.string()).optional(),
      runtime: u64.optional(),
      deadline: u64.optional(),
      period: u64.optional(),
    })
    .optional(),
  execCPUAffinity: z.object({ initial: z.string().optional(), final: z.string().optional() }).optional(),
});

export const Hook = z.object({
  path: z.string(),
  args: z.array(z.string()).optional(),
  env: z.array(z.string()).optional(),
  timeout: z.number().int().optional(),
});

export const Hooks = z.object({
  prestart: z.array(Hook).optional(),
  createRuntime: z.array(Hook).optional(),
  createContainer: z.array(Hook).optional(),
  startContainer: z.array(Hook).optional(),
  poststart: z.array(Hook).optional(),
  poststop: z.array(Hook).optional(),
});

export const Namespace = z.object({
  type: z.string(),
  path: z.string().optional(),
});

export const Device = z.object({
  type: z.string(),
  path: z.string(),
  major: i64.optional(),
  minor: i64.optional(),
  fileMode: u32.optional(),
  uid: u32.optional(),
  gid: u32.optional(),
});

export const DeviceRule = z.object({
  allow: z.boolean(),
  type: z.string().optional(),
  major: i64.nullable().optional(),
  minor: i64.nullable().optional(),
  access: z.string().optional(),
});

const WeightDevice = z.object({
  major: i64,
  minor: i64,
  weight: z.number().int().optional(),
  leafWeight: z.number().int().optional(),
});
const ThrottleDevice = z.object({ major: i64, minor: i64, rate: u64 });

export const Resources = z.object({
  devices: z.array(DeviceRule).optional(),
  memory: z
    .object({
      limit: i64.optional(),
      reservation: i64.optional(),
      swap: i64.optional(),
      kernel: i64.optional(),
      kernelTCP: i64.optional(),
      swappiness: u64.optional(),
      disableOOMKiller: z.boolean().optional(),
      useHierarchy: z.boolean().optional(),
      checkBeforeUpdate: z.boolean().optional(),
    })
    .optional(),
  cpu: z
    .object({
      shares: u64.optional(),
      quota: i64.optional(),
      burst: u64.optional(),
      period: u64.optional(),
      realtimeRuntime: i64.optional(),
      realtimePeriod: u64.optional(),
      cpus: z.string().optional(),
      mems: z.string().optional(),
      idle: i64.optional(),
    })
    .optional(),
  pids: z.object({ limit: i64 }).optional(),
  blockIO: z
    .object({
      weight: z.number().int().optional(),
      leafWeight: z.number().int().optional(),
      weightDevice: z.array(WeightDevice).optional(),
      throttleReadBpsDevice: z.array(ThrottleDevice).optional(),
      throttleWriteBpsDevice: z.array(ThrottleDevice).optional(),
      throttleReadIOPSDevice: z.array(ThrottleDevice).optional(),
      throttleWriteIOPSDevice: z.array(ThrottleDevice).optional(),
    })
    .optional(),
  hugepageLimits: z.array(z.object({ pageSize: z.string(), limit: u64 })).optional(),
  network: z
    .object({
      classID: u32.optional(),
      priorities: z.array(z.object({ name: z.string(), priority: u32 })).optional(),
    })
    .optional(),
  rdma: z.record(z.string(), z.object({ hcaHandles: u32.optional(), hcaObjects: u32.optional() })).optional(),
  unified: z.record(z.string(), z.string()).optional(),
});

export const SeccompArg = z.object({
  index: z.number().int(),
  value: u64,
  valueTwo: u64.optional(),
  op: z.string(),
});

export const Seccomp = z.object({
  defaultAction: z.string(),
  defaultErrnoRet: u32.optional(),
  architectures: z.array(z.string()).optional(),
  flags: z.array(z.string()).optional(),
  listenerPath: z.string().optional(),
  listenerMetadata: z.string().optional(),
  syscalls: z
    .array(
      z.object({
        names: z.array(z.string()),
        action: z.string(),
        errnoRet: u32.optional(),
        args: z.array(SeccompArg).optional(),
      }),
    )
    .optional(),
});

export const Linux = z.object({
  namespaces: z.array(Namespace).optional(),
  uidMappings: z.array(IdMapping).optional(),
  gidMappings: z.array(IdMapping).optional(),
  timeOffsets: z.record(z.string(), z.object({ secs: i64.optional(), nanosecs: u32.optional() })).optional(),
  devices: z.array(Device).optional(),
  cgroupsPath: z.string().optional(),
  resources: Resources.optional(),
  rootfsPropagation: z.string().optional(),
  seccomp: Seccomp.optional(),
  sysctl: z.record(z.string(), z.string()).optional(),
  maskedPaths: z.array(z.string()).optional(),
  readonlyPaths: z.array(z.string()).optional(),
  mountLabel: z.string().optional(),
  intelRdt: z
    .object({
      closID: z.string().optional(),
      l3CacheSchema: z.string().optional(),
      memBwSchema: z.string().optional(),
      schemata: z.array(z.string()).optional(),
      enableMonitoring: z.boolean().optional(),
    })
    .optional(),
  personality: z.object({ domain: z.string(), flags: z.array(z.string()).optional() }).optional(),
  netDevices: z.record(z.string(), z.object({ name: z.string().optional() })).optional(),
  memoryPolicy: z.record(z.string(), z.unknown()).optional(),
});

export const Config = z.object({
  ociVersion: z.string(),
  process: Process.optional(),
  root: z.object({ path: z.string(), readonly: z.boolean().optional() }).optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  mounts: z.array(Mount).optional(),
  hooks: Hooks.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  linux: Linux.optional(),
});

export type Config = z.infer<typeof Config>;
export type ProcessSpec = z.infer<typeof Process>;
export type MountSpec = z.infer<typeof Mount>;
export type LinuxSpec = z.infer<typeof Linux>;
export type DeviceSpec = z.infer<typeof Device>;
export type DeviceRuleSpec = z.infer<typeof DeviceRule>;
export type ResourcesSpec = z.infer<typeof Resources>;
export type NamespaceSpec = z.infer<typeof Namespace>;
export type IdMappingSpec = z.infer<typeof IdMapping>;

// The plan as TypeScript sees it, and its wire encoding. Field order and types mirror
// cpp/plan/plan.h and cpp/plan/decode.cc one to one; change all three together and bump
// PLAN_VERSION (the addon reports the version it was built with, checked at start-up).

export const PLAN_VERSION = 6;

export const NS_TYPES = ['mount', 'uts', 'ipc', 'network', 'pid', 'user', 'cgroup', 'time'] as const;
export type NsType = (typeof NS_TYPES)[number];

export interface PlanNamespace {
  type: NsType;
  /** empty: a new namespace */
  path: string;
}

export enum OpKind {
  Mount = 1,
  Bind = 2,
  Mknod = 3,
  BindDevice = 4,
  Symlink = 5,
}

/** Symlink op flag: replace what is at the destination. */
export const OP_REPLACE = 1;

export interface RootfsOp {
  kind: OpKind;
  /** index into config.json's mounts (or devices), -1 when the runtime added it */
  configIndex: number;
  source: string;
  dest: string;
  fstype: string;
  data: string;
  flags: number;
  propagation: number[];
  devType: '' | 'c' | 'b' | 'p';
  devMajor: number;
  devMinor: number;
  mode: number;
  uid: number;
  gid: number;
  /** mount_setattr(2) after the mount (rro, rnosuid...): MOUNT_ATTR_* bits */
  attrSet: number;
  attrClr: number;
  attrRecursive: boolean;
  /** an id-mapped bind: the source seen through these mappings (empty: none) */
  uidMappings: PlanIdMap[];
  gidMappings: PlanIdMap[];
  /** a tmpfs that starts with a copy of the directory it covers (runc's tmpcopyup) */
  copyUp: boolean;
  /** not sent: how errors name this operation, e.g. `mounts[2] "/proc"` */
  describe: string;
}

export interface PlanIdMap {
  containerID: number;
  hostID: number;
  size: number;
}

export interface PlanHook {
  path: string;
  args: string[];
  env: string[];
  /** seconds, 0: none */
  timeout: number;
}

export interface PlanScheduler {
  policy: number;
  nice: number;
  priority: number;
  flags: bigint;
  runtime: bigint;
  deadline: bigint;
  period: bigint;
}

export interface PlanRlimit {
  resource: number;
  soft: bigint;
  hard: bigint;
}

export interface PlanProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  /** -1: runc's default 0022 */
  umask: number;
  /** bit masks: bounding, effective, permitted, inheritable, ambient */
  caps: [bigint, bigint, bigint, bigint, bigint];
  rlimits: PlanRlimit[];
  noNewPrivileges: boolean;
  terminal: boolean;
  /** rootless: leave the inherited supplementary groups (runc skips setgroups then) */
  keepGroups: boolean;
  consoleHeight: number;
  consoleWidth: number;
}

export interface Plan {
  containerId: string;
  namespaces: PlanNamespace[];
  rootfs: string;
  /** 0: MS_SLAVE|MS_REC */
  rootfsPropagation: number;
  noPivot: boolean;
  readonlyRoot: boolean;
  readonlyDev: boolean;
  newKeyring: boolean;
  rootfsOps: RootfsOp[];
  hostname: string | null;
  domainname: string | null;
  readonlyPaths: string[];
  maskedPaths: string[];
  process: PlanProcess;
  /** fd numbers inside tsrun-init, filled in by the spawner; -1 when absent */
  fifoFd: number;
  consoleSocketFd: number;
  preserveFds: number;
  /** exec: join the container whose init joinFd names (filled in by the spawner) */
  mode: 'create' | 'exec';
  joinFd: number;
  /** a new user namespace: tsrun-init asks the parent to write its maps */
  usernsMaps: boolean;
  timeOffsets: { monotonic: [bigint, number]; boottime: [bigint, number] } | null;
  /** tsrun-init stops at the HOOKS point (before pivot_root) for the parent's hooks */
  hooksSync: boolean;
  createContainerHooks: PlanHook[];
  startContainerHooks: PlanHook[];
  sysctl: Array<[string, string]>;
  oomScoreAdj: number | null;
  personality: number | null;
  scheduler: PlanScheduler | null;
  /** an ioprio value, -1: leave it */
  ioPriority: number;
  cpusInitial: number[];
  cpusFinal: number[];
  apparmorProfile: string;
  selinuxLabel: string;
  /** the compiled seccomp filter, null for none */
  seccomp: PlanSeccomp | null;
}

export interface PlanSeccomp {
  /** struct sock_filter[] */
  bpf: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits */
  flags: number;
}

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
  u8(v: number): void {
    this.room(1);
    this.off = this.buf.writeUInt8(v, this.off);
  }
  flag(v: boolean): void {
    this.u8(v ? 1 : 0);
  }
  u32(v: number): void {
    this.room(4);
    this.off = this.buf.writeUInt32LE(v >>> 0, this.off);
  }
  i32(v: number): void {
    this.room(4);
    this.off = this.buf.writeInt32LE(v, this.off);
  }
  i64(v: bigint | number): void {
    this.room(8);
    this.off = this.buf.writeBigInt64LE(BigInt(v), this.off);
  }
  u64(v: bigint | number): void {
    this.room(8);
    this.off = this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), this.off);
  }
  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.u32(n);
    this.room(n);
    this.off += this.buf.write(s, this.off, 'utf8');
  }
  blob(bytes: Buffer): void {
    this.u32(bytes.length);
    this.room(bytes.length);
    this.off += bytes.copy(this.buf, this.off);
  }
  strs(list: string[]): void {
    this.u32(list.length);
    for (const s of list) this.str(s);
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

const nsCode: Record<NsType, number> = {
  mount: 1,
  uts: 2,
  ipc: 3,
  network: 4,
  pid: 5,
  user: 6,
  cgroup: 7,
  time: 8,
};

export function encodePlan(p: Plan): Buffer {
  const w = new Writer();
  w.u32(PLAN_VERSION);
  w.str(p.containerId);
  w.u32(p.namespaces.length);
  for (const ns of p.namespaces) {
    w.u8(nsCode[ns.type]);
    w.str(ns.path);
  }
  w.str(p.rootfs);
  w.u64(p.rootfsPropagation);
  w.flag(p.noPivot);
  w.flag(p.readonlyRoot);
  w.flag(p.readonlyDev);
  w.flag(p.newKeyring);
  w.u32(p.rootfsOps.length);
  for (const op of p.rootfsOps) {
    w.u8(op.kind);
    w.i32(op.configIndex);
    w.str(op.source);
    w.str(op.dest);
    w.str(op.fstype);
    w.str(op.data);
    w.u64(op.flags);
    w.u32(op.propagation.length);
    for (const f of op.propagation) w.u64(f);
    w.u8(op.devType ? op.devType.charCodeAt(0) : 0);
    w.u32(op.devMajor);
    w.u32(op.devMinor);
    w.u32(op.mode);
    w.u32(op.uid);
    w.u32(op.gid);
    w.u64(op.attrSet);
    w.u64(op.attrClr);
    w.flag(op.attrRecursive);
    for (const maps of [op.uidMappings, op.gidMappings]) {
      w.u32(maps.length);
      for (const m of maps) {
        w.u32(m.containerID);
        w.u32(m.hostID);
        w.u32(m.size);
      }
    }
    w.flag(op.copyUp);
  }
  w.flag(p.hostname !== null);
  w.str(p.hostname ?? '');
  w.flag(p.domainname !== null);
  w.str(p.domainname ?? '');
  w.strs(p.readonlyPaths);
  w.strs(p.maskedPaths);
  const proc = p.process;
  w.strs(proc.args);
  w.strs(proc.env);
  w.str(proc.cwd);
  w.u32(proc.uid);
  w.u32(proc.gid);
  w.u32(proc.additionalGids.length);
  for (const g of proc.additionalGids) w.u32(g);
  w.i32(proc.umask);
  for (const c of proc.caps) w.u64(c);
  w.u32(proc.rlimits.length);
  for (const r of proc.rlimits) {
    w.i32(r.resource);
    w.u64(r.soft);
    w.u64(r.hard);
  }
  w.flag(proc.noNewPrivileges);
  w.flag(proc.terminal);
  w.flag(proc.keepGroups);
  w.u32(proc.consoleHeight);
  w.u32(proc.consoleWidth);
  w.i32(p.fifoFd);
  w.i32(p.consoleSocketFd);
  w.u32(p.preserveFds);
  w.u8(p.mode === 'exec' ? 1 : 0);
  w.i32(p.joinFd);
  w.flag(p.usernsMaps);
  w.flag(p.timeOffsets !== null);
  w.i64(p.timeOffsets?.monotonic[0] ?? 0n);
  w.u32(p.timeOffsets?.monotonic[1] ?? 0);
  w.i64(p.timeOffsets?.boottime[0] ?? 0n);
  w.u32(p.timeOffsets?.boottime[1] ?? 0);
  w.flag(p.hooksSync);
  for (const hooks of [p.createContainerHooks, p.startContainerHooks]) {
    w.u32(hooks.length);
    for (const h of hooks) {
      w.str(h.path);
      w.strs(h.args);
      w.strs(h.env);
      w.i32(h.timeout);
    }
  }
  w.u32(p.sysctl.length);
  for (const [k, v] of p.sysctl) {
    w.str(k);
    w.str(v);
  }
  w.flag(p.oomScoreAdj !== null);
  w.i32(p.oomScoreAdj ?? 0);
  w.flag(p.personality !== null);
  w.u32(p.personality ?? 0);
  const sched = p.scheduler;
  w.flag(sched !== null);
  w.u32(sched?.policy ?? 0);
  w.i32(sched?.nice ?? 0);
  w.u32(sched?.priority ?? 0);
  w.u64(sched?.flags ?? 0n);
  w.u64(sched?.runtime ?? 0n);
  w.u64(sched?.deadline ?? 0n);
  w.u64(sched?.period ?? 0n);
  w.i32(p.ioPriority);
  for (const cpus of [p.cpusInitial, p.cpusFinal]) {
    w.u32(cpus.length);
    for (const c of cpus) w.u32(c);
  }
  w.str(p.apparmorProfile);
  w.str(p.selinuxLabel);
  w.blob(p.seccomp?.bpf ?? Buffer.alloc(0));
  w.u32(p.seccomp?.flags ?? 0);
  return w.bytes();
}

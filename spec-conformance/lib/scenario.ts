// A scenario sets up what one requirement needs (a bundle, a container, a namespace to join)
// and gives a verdict for each of its checks. Whatever it made is removed when it ends,
// pass or fail: its containers through the runtime's own kill and delete, then its
// cgroups under the test parent, mounts left under its work directory, and the directory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Bundle, type BundleOptions } from './bundle.js';
import { removeCgroupDirs, testCgroupDirs } from './cgroups.js';
import { baseConfig, type Config } from './config.js';
import type { SuiteEnv } from './env.js';
import { Facts } from './facts.js';
import { parseMountInfo, type Host } from './host.js';
import { describeCall, Runtime, type CallOptions, type CallResult, type OciState } from './runtime.js';

export interface ScenarioDef {
  /** the spec section, e.g. runtime.md#state */
  section: string;
  /** runtime-tools' validation/<name> where the two overlap */
  name: string;
  /** check key -> what it asserts */
  checks: Record<string, string>;
  run(s: Scenario): Promise<void>;
}

export function scenario(def: ScenarioDef): ScenarioDef {
  return def;
}

/** Changes the base config of a new bundle (whose id, rootfs and directory it may use). */
export type BundleEdit = (c: Config, b: { id: string; rootfs: string; dir: string }) => void;

/** A failure of set-up: every check still without a verdict fails with it. */
export class SetupError extends Error {}

export interface Verdict {
  ok: boolean;
  diag: string[];
}

let idCounter = 0;
const runTag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

export class Scenario {
  readonly verdicts = new Map<string, Verdict>();
  readonly notes: string[] = [];
  readonly work: string;
  readonly rt: Runtime;
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private readonly containers: Container[] = [];

  constructor(
    readonly def: ScenarioDef,
    readonly env: SuiteEnv,
    readonly host: Host,
  ) {
    this.work = mkdtempSync(path.join(env.tmp, `oci-conf-${def.name}-`));
    // ids mapped in a user namespace must be able to reach their rootfs
    chmodSync(this.work, 0o711);
    this.rt = new Runtime(env.runtime, env.root);
  }

  /** A fresh container ID, unique to this run. */
  newId(label = this.def.name): string {
    const safe = label.replace(/[^a-zA-Z0-9]/g, '').slice(0, 16);
    return `oci-${runTag}-${++idCounter}-${safe}`;
  }

  async bundle(edit?: BundleEdit, opts: BundleOptions = {}): Promise<Bundle> {
    const id = this.newId();
    const b = new Bundle(this.work, id, baseConfig(id), this.env.rootfs, this.env.probe, opts);
    if (edit) b.edit((c) => edit(c, { id, rootfs: b.rootfs, dir: b.dir }));
    return b;
  }

  /** A bundle from the base config as `edit` leaves it, run to its end: the probe's report. */
  async runProbe(edit?: BundleEdit, opts: BundleOptions = {}): Promise<Facts> {
    return this.container(await this.bundle(edit, opts)).run();
  }

  /**
   * One container for some checks: run as runProbe does, then verified. A failure to make
   * or run it fails those checks alone, not the rest of the scenario.
   */
  async probe(keys: string | string[], edit: BundleEdit, verify: (f: Facts, b: Bundle) => void, opts: BundleOptions = {}): Promise<void> {
    await this.part(keys, async () => {
      const b = await this.bundle(edit, opts);
      verify(await this.container(b).run(), b);
    });
  }

  /** Runs part of a scenario; an error in it fails the given checks only. */
  async part(keys: string | string[], fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      for (const k of ([] as string[]).concat(keys)) this.ok(k, false, (e as Error).message);
    }
  }

  container(bundle: Bundle, id: string = bundle.id): Container {
    const c = new Container(this, bundle, id);
    this.containers.push(c);
    return c;
  }

  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  // --- verdicts ---

  ok(key: string, cond: boolean, ...diag: unknown[]): boolean {
    if (!(key in this.def.checks)) throw new Error(`suite defect: ${this.def.name} has no check "${key}"`);
    const prev = this.verdicts.get(key);
    const d = diag.filter((x) => x !== undefined && x !== '').map(show);
    // A check given several verdicts passes only if every one passed.
    if (prev) {
      prev.ok = prev.ok && cond;
      if (!cond) prev.diag.push(...d);
    } else {
      this.verdicts.set(key, { ok: cond, diag: cond ? [] : d });
    }
    return cond;
  }

  equal(key: string, actual: unknown, expected: unknown, what = ''): boolean {
    const same = isDeepStrictEqual(actual, expected);
    return this.ok(key, same, `${what ? what + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }

  /** A call that must fail: non-zero exit (the CLI's way of generating an error). */
  failed(key: string, r: CallResult, what: string): boolean {
    return this.ok(key, r.code !== 0 && !r.timedOut, `${what}: ${describeCall(r)}`);
  }

  succeeded(key: string, r: CallResult, what: string): boolean {
    return this.ok(key, r.code === 0, `${what}: ${describeCall(r)}`);
  }

  /**
   * Runs a bundle that the runtime must refuse: create must fail (or, for a runtime that
   * checks late, start), and the failed create must leave no container behind.
   */
  async expectError(key: string, bundle: Bundle, what: string, match?: RegExp, control?: Bundle): Promise<CallResult | undefined> {
    // A runtime that refuses the whole feature refuses the wrong value too: that proves
    // nothing, so a valid config of the same feature must be accepted first.
    if (control) {
      const ok = this.container(control);
      const r = await ok.create();
      if (r.code !== 0) {
        this.ok(key, false, `${what}: not meaningful, the runtime refuses the valid config too: ${describeCall(r)}`);
        return undefined;
      }
      await ok.cleanup();
    }
    const c = this.container(bundle);
    const created = await c.create();
    if (created.code === 0) {
      const started = await c.start();
      if (started.code === 0) {
        this.ok(key, false, `${what}: create and start both succeeded`);
        return undefined;
      }
      this.ok(key, !match || match.test(started.stderr), `${what}: start failed, but its error does not name ${match}: ${describeCall(started)}`);
      return started;
    }
    this.ok(key, !match || match.test(created.stderr), `${what}: create failed, but its error does not name ${match}: ${describeCall(created)}`);
    const left = await c.state();
    this.ok(key, left === undefined, `${what}: the failed create left a container: ${JSON.stringify(left)}`);
    const cgroups = testCgroupDirs(this.host, c.id).filter((d) => existsSync(d));
    this.ok(key, cgroups.length === 0, `${what}: the failed create left its cgroups: ${cgroups.join(' ')}`);
    return created;
  }

  note(msg: string): void {
    this.notes.push(msg);
  }

  // --- helpers for set-up ---

  need<T>(value: T | undefined | null | false, what: string): T {
    if (value === undefined || value === null || value === false) throw new SetupError(what);
    return value;
  }

  /**
   * A process holding new namespaces (`unshare <flags> --fork sleep`), for checks that
   * join a namespace by path. Killed when the scenario ends.
   */
  async holder(flags: string[]): Promise<Holder> {
    const child = spawn('unshare', [...flags, '--fork', '--kill-child', 'sleep', '600'], { stdio: 'ignore' });
    const h = new Holder(child);
    this.defer(() => h.stop());
    await until(() => {
      try {
        // unshare has unshared once its namespace links (or those for its children) changed
        return flags.every((f) => {
          const type = UNSHARE_NS[f];
          if (!type) return true;
          return readlinkSync(h.nsPath(type)) !== readlinkSync(`/proc/self/ns/${type}`);
        });
      } catch {
        return false;
      }
    }, 5000);
    return h;
  }

  async finish(): Promise<string[]> {
    const problems: string[] = [];
    for (const c of this.containers.reverse()) {
      try {
        const p = await c.cleanup();
        if (p) problems.push(p);
      } catch (e) {
        problems.push(`cleanup of ${c.id}: ${(e as Error).message}`);
      }
    }
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        problems.push(`cleanup: ${(e as Error).message}`);
      }
    }
    const removed = removeCgroupDirs(this.containers.flatMap((c) => testCgroupDirs(this.host, c.id)));
    if (removed.length) problems.push(`cgroups left behind after delete (removed by the suite): ${removed.join(' ')}`);
    const mounts = mountsUnder(this.work);
    // umount -l: a lazy unmount does not fail on a busy mount
    for (const m of mounts) spawnSyncQuiet('umount', ['-l', m]);
    if (mounts.length) problems.push(`mounts left on the host after delete (unmounted by the suite): ${mounts.join(' ')}`);
    try {
      rmSync(this.work, { recursive: true, force: true });
    } catch (e) {
      problems.push(`removing ${this.work}: ${(e as Error).message}`);
    }
    return problems;
  }
}

const UNSHARE_NS: Record<string, string> = {
  '--ipc': 'ipc',
  '--mount': 'mnt',
  '--net': 'net',
  '--pid': 'pid',
  '--uts': 'uts',
  '--user': 'user',
  '--cgroup': 'cgroup',
  '--time': 'time',
};

export class Holder {
  constructor(readonly child: ChildProcess) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** the namespace file (by /proc name) to give config.json: the holder's own, or its children's for pid and time */
  nsPath(type: string): string {
    const proc = type === 'pid' ? 'pid_for_children' : type === 'time' ? 'time_for_children' : type;
    return `/proc/${this.pid}/ns/${proc}`;
  }

  nsLink(type: string): string {
    return readlinkSync(this.nsPath(type));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    // unshare ignores SIGTERM while it waits; --kill-child takes its child along
    this.child.kill('SIGKILL');
    await Promise.race([done, sleep(2000)]);
  }
}

export class Container {
  readonly stdoutFile: string;
  readonly stderrFile: string;
  readonly pidFile: string;
  created = false;
  /** removed by a successful delete: clean-up need not ask */
  deleted = false;
  /** the container process, from create's --pid-file */
  knownPid?: number;

  constructor(
    readonly s: Scenario,
    readonly bundle: Bundle,
    readonly id: string,
  ) {
    this.stdoutFile = bundle.file(`${id}.stdout`);
    this.stderrFile = bundle.file(`${id}.stderr`);
    this.pidFile = bundle.file(`${id}.pid`);
  }

  get rt(): Runtime {
    return this.s.rt;
  }

  async create(opts: CallOptions & { pidFile?: string } = {}): Promise<CallResult> {
    const pidFile = opts.pidFile ?? this.pidFile;
    const r = await this.rt.create(this.id, this.bundle.dir, { stdoutFile: this.stdoutFile, stderrFile: this.stderrFile, ...opts, pidFile });
    // a failed create may still have left a container: clean-up asks the runtime either way
    this.created = true;
    this.deleted = false;
    if (r.code === 0 && existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 0) this.knownPid = pid;
    }
    return r;
  }

  async createOk(opts: CallOptions & { pidFile?: string } = {}): Promise<CallResult> {
    const r = await this.create(opts);
    if (r.code !== 0) throw new SetupError(`create failed: ${describeCall(r)}`);
    return r;
  }

  start(): Promise<CallResult> {
    return this.rt.start(this.id);
  }

  async startOk(): Promise<CallResult> {
    const r = await this.start();
    if (r.code !== 0) throw new SetupError(`start failed: ${describeCall(r)}`);
    return r;
  }

  kill(signal: string): Promise<CallResult> {
    return this.rt.kill(this.id, signal);
  }

  async delete(): Promise<CallResult> {
    const r = await this.rt.delete(this.id);
    if (r.code === 0) this.deleted = true;
    return r;
  }

  async deleteOk(): Promise<CallResult> {
    const r = await this.delete();
    if (r.code !== 0) throw new SetupError(`delete failed: ${describeCall(r)}`);
    return r;
  }

  async state(): Promise<OciState | undefined> {
    return (await this.rt.state(this.id)).state;
  }

  async stateOk(): Promise<OciState> {
    const r = await this.rt.state(this.id);
    if (!r.state) throw new SetupError(`state failed: ${r.parseError ?? describeCall(r.result)}`);
    return r.state;
  }

  async pid(): Promise<number> {
    const st = await this.stateOk();
    if (typeof st.pid !== 'number' || st.pid <= 0) throw new SetupError(`state has no pid: ${JSON.stringify(st)}`);
    return st.pid;
  }

  /** Polls state until its status is one of `statuses`; returns the last state seen. */
  async waitFor(statuses: string[], ms = 10_000): Promise<OciState | undefined> {
    const end = Date.now() + ms;
    // Waiting for "stopped", watch the container process itself (cheap) before asking the
    // runtime: each state call may cost a runtime start.
    if (statuses.includes('stopped') && this.knownPid) {
      const pid = this.knownPid;
      await until(() => !processLives(pid), ms, 10);
    }
    let last = await this.state();
    for (;;) {
      if (last && statuses.includes(String(last.status))) return last;
      if (Date.now() > end) return last;
      await sleep(20);
      last = await this.state();
    }
  }

  async waitStopped(ms = 10_000): Promise<void> {
    const st = await this.waitFor(['stopped'], ms);
    if (st?.status !== 'stopped') throw new SetupError(`container did not stop within ${ms} ms (last state: ${JSON.stringify(st)})`);
  }

  /** What the container wrote on its stdout (create's inherited stdout). */
  output(): Facts {
    return new Facts(existsSync(this.stdoutFile) ? readFileSync(this.stdoutFile, 'utf8') : '');
  }

  stderr(): string {
    return existsSync(this.stderrFile) ? readFileSync(this.stderrFile, 'utf8') : '';
  }

  /** create, start, wait until stopped, delete: the probe's report. */
  async run(): Promise<Facts> {
    await this.createOk();
    await this.startOk();
    await this.waitStopped();
    const facts = this.output();
    await this.deleteOk();
    return facts;
  }

  /** Kill, wait, delete through the runtime; --force only as a last resort, reported. */
  async cleanup(): Promise<string | undefined> {
    if (!this.created || this.deleted) return undefined;
    let st = await this.state();
    if (!st) return undefined;
    if (st.status !== 'stopped') {
      await this.kill('KILL');
      st = await this.waitFor(['stopped'], 5000);
    }
    const del = await this.delete();
    if (del.code === 0 && !(await this.state())) return undefined;
    const forced = await this.rt.forceDelete(this.id);
    const still = await this.state();
    return `${this.id} was not removed by kill KILL and delete (${describeCall(del)}); delete --force ${forced.code === 0 && !still ? 'removed it' : 'failed too'}`;
  }
}

/** A live process, not a zombie waiting for its parent. */
export function processLives(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until(cond: () => boolean | Promise<boolean>, ms: number, step = 20): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await sleep(step);
  }
}

export function show(x: unknown): string {
  if (typeof x === 'string') return x;
  try {
    return JSON.stringify(x, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(x);
  }
}

export function mountsUnder(dir: string): string[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((m) => m.point)
    .filter((p) => p === dir || p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

function spawnSyncQuiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // reported by the caller through the list of mounts it found
  }
}

// A scenario sets up what one requirement needs (a bundle, a container, a namespace to join)
// and gives a verdict for each of its checks. Whatever it made is removed when it ends,
// pass or fail: its containers through the runtime's own kill and delete, then its
// cgroups under the test parent, mounts left under its work directory, and the directory.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Bundle, type BundleOptions } from './bundle.js';
import { removeCgroupDirs, testCgroupDirs } from './cgroups.js';
import { baseConfig, type Config } from './config.js';
import type { SuiteEnv } from './env.js';
import { Container, SetupError } from './container.js';
import type { Facts } from './facts.js';
import { startHolder, type Holder } from './holder.js';
import { mountsUnder, type Host } from './host.js';
import { chownTo, makeRootless } from './rootless.js';
import { describeCall, Runtime, type CallResult } from './runtime.js';

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
    if (env.user) chownTo(env.user, this.work);
    this.rt = new Runtime(env.runtime, env.root, env.user);
  }

  /** A fresh container ID, unique to this run. */
  newId(label = this.def.name): string {
    const safe = label.replace(/[^a-zA-Z0-9]/g, '').slice(0, 16);
    return `oci-${runTag}-${++idCounter}-${safe}`;
  }

  async bundle(edit?: BundleEdit, opts: BundleOptions = {}): Promise<Bundle> {
    const id = this.newId();
    const b = new Bundle(this.work, id, baseConfig(id), this.env.rootfs, this.env.probe, opts);
    const user = this.env.user;
    if (user) chownTo(user, path.dirname(b.dir));
    // Rootless: the user namespace goes in after the check's own edit, which may bring its own.
    if (edit || user) {
      b.edit((c) => {
        edit?.(c, { id, rootfs: b.rootfs, dir: b.dir });
        if (user) makeRootless(c, user);
      });
    }
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

  /** The probe's report, or undefined once the given checks have failed with the reason. */
  async report(keys: string | string[], edit: BundleEdit, opts: BundleOptions = {}): Promise<Facts | undefined> {
    let f: Facts | undefined;
    await this.part(keys, async () => void (f = await this.runProbe(edit, opts)));
    return f;
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
    const c = new Container(this.rt, bundle, id);
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

  /** A process holding new namespaces, killed when the scenario ends. */
  async holder(flags: string[]): Promise<Holder> {
    const h = await startHolder(flags);
    this.defer(() => h.stop());
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

export function show(x: unknown): string {
  if (typeof x === 'string') return x;
  try {
    return JSON.stringify(x, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(x);
  }
}

function spawnSyncQuiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // reported by the caller through the list of mounts it found
  }
}

// A container of the runtime under test, as the suite drives it: its stdio files, its pid
// from --pid-file, waits on its status, and its removal through the runtime's own CLI.
import { existsSync, readFileSync } from 'node:fs';
import type { Bundle } from './bundle.js';
import { Facts } from './facts.js';
import { processLives } from './host.js';
import { sleep, until } from './poll.js';
import { describeCall, type CallOptions, type CallResult, type OciState, type Runtime } from './runtime.js';

/** A failure of set-up: every check still without a verdict fails with it. */
export class SetupError extends Error {}

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
    readonly rt: Runtime,
    readonly bundle: Bundle,
    readonly id: string,
  ) {
    this.stdoutFile = bundle.file(`${id}.stdout`);
    this.stderrFile = bundle.file(`${id}.stderr`);
    this.pidFile = bundle.file(`${id}.pid`);
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

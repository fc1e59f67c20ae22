// The runtime under test, driven only through the CLI runtime-tools uses: an optional
// global --root, create [--pid-file F] --bundle DIR ID, start, state, kill ID SIGNAL and
// delete. Nothing here knows which runtime it is.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { asUser, type RootlessUser } from './rootless.js';

export interface CallResult {
  argv: string[];
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** The OCI state as a runtime prints it; only what the spec names is typed. */
export interface OciState {
  ociVersion?: unknown;
  id?: unknown;
  status?: unknown;
  pid?: unknown;
  bundle?: unknown;
  annotations?: unknown;
  [k: string]: unknown;
}

export interface CallOptions {
  /** argv run in front of the runtime (e.g. an unshare wrapper) */
  prefix?: string[];
  /** files the call's stdout and stderr go to (create: the container inherits them) */
  stdoutFile?: string;
  stderrFile?: string;
  timeoutMs?: number;
}

/** A call's output file; a scenario that gave up on a slow call may have removed it since. */
function readIfThere(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export class Runtime {
  /** calls made, by every instance: the suite's cost is mostly runtime starts */
  static calls = 0;

  constructor(
    readonly command: string,
    readonly root?: string,
    /** rootless mode: called as this user */
    readonly user?: RootlessUser,
  ) {}

  argv(args: string[]): string[] {
    return [this.command, ...(this.root ? ['--root', this.root] : []), ...args];
  }

  call(args: string[], opts: CallOptions = {}): Promise<CallResult> {
    const as = this.user ? asUser(this.user) : undefined;
    // A caller's prefix (a namespace set up as root) comes first, then the drop to the user.
    const argv = [...(opts.prefix ?? []), ...(as?.prefix ?? []), ...this.argv(args)];
    Runtime.calls++;
    const started = Date.now();
    // Files rather than pipes where the container may inherit them: a created container
    // keeps create's stdio open for as long as it lives.
    const outFd = opts.stdoutFile ? openSync(opts.stdoutFile, 'a') : 'pipe';
    const errFd = opts.stderrFile ? openSync(opts.stderrFile, 'a') : 'pipe';
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', outFd, errFd], env: as?.env });
      if (typeof outFd === 'number') closeSync(outFd);
      if (typeof errFd === 'number') closeSync(errFd);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs ?? 60_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (opts.stdoutFile) stdout = readIfThere(opts.stdoutFile);
        if (opts.stderrFile) stderr = readIfThere(opts.stderrFile);
        const ms = Date.now() - started;
        if (process.env.CONFORMANCE_DEBUG) process.stderr.write(`# ${ms} ms: ${argv.join(' ')} -> ${code ?? signal}\n`);
        resolve({ argv, code: code ?? -1, signal, stdout, stderr, timedOut, ms });
      });
    });
  }

  create(id: string | undefined, bundle: string | undefined, opts: CallOptions & { pidFile?: string } = {}): Promise<CallResult> {
    const args = ['create'];
    if (opts.pidFile) args.push('--pid-file', opts.pidFile);
    if (bundle !== undefined) args.push('--bundle', bundle);
    if (id !== undefined) args.push(id);
    return this.call(args, opts);
  }

  start(id: string | undefined): Promise<CallResult> {
    return this.call(id === undefined ? ['start'] : ['start', id]);
  }

  kill(id: string | undefined, signal: string | undefined): Promise<CallResult> {
    const args = ['kill'];
    if (id !== undefined) args.push(id);
    if (signal !== undefined) args.push(signal);
    return this.call(args);
  }

  delete(id: string | undefined): Promise<CallResult> {
    return this.call(id === undefined ? ['delete'] : ['delete', id]);
  }

  /** Last resort in clean-up only: not part of the CLI the checks rely on. */
  forceDelete(id: string): Promise<CallResult> {
    return this.call(['delete', '--force', id]);
  }

  async state(id: string | undefined): Promise<{ result: CallResult; state?: OciState; parseError?: string }> {
    const result = await this.call(id === undefined ? ['state'] : ['state', id]);
    if (result.code !== 0) return { result };
    try {
      const state = JSON.parse(result.stdout) as OciState;
      if (typeof state !== 'object' || state === null) return { result, parseError: 'not a JSON object' };
      return { result, state };
    } catch (e) {
      return { result, parseError: (e as Error).message };
    }
  }
}

/** The last line a failing runtime wrote on stderr: what a caller would show its user. */
export function errorText(r: CallResult): string {
  const lines = r.stderr.trim().split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1] ?? '';
  // runc's text log line: time="..." level=error msg="..."
  const m = /level=error msg=("(?:[^"\\]|\\.)*")/.exec(last);
  if (m) {
    try {
      return JSON.parse(m[1] as string) as string;
    } catch {
      return last;
    }
  }
  return last;
}

/** "create ID: exit 1: <error>", the runtime's own message first, paths left out. */
export function describeCall(r: CallResult): string {
  const what = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  const all = r.argv.slice(r.argv.indexOf('--root') >= 0 ? r.argv.indexOf('--root') + 2 : 1);
  const args = all.filter((a, i) => a !== '--pid-file' && a !== '--bundle' && all[i - 1] !== '--pid-file' && all[i - 1] !== '--bundle');
  const err = errorText(r);
  return `${args.join(' ')}: ${what}${err ? `: ${err}` : ''}`;
}

// Running tsrun (and runc, for differential tests) as a caller would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { tsrunBin } from './paths.js';

export interface Result {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** extra fds for the child, from 3 up (for --preserve-fds) */
  extraFds?: number[];
  /** the child's whole environment (this process's by default) */
  env?: NodeJS.ProcessEnv;
}

export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe', ...(opts.extraFds ?? [])],
    }) as ChildProcessWithoutNullStreams;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    // A created container keeps the stdio `create` gave it, so the pipes may stay open long
    // after the command exits: take its exit, then whatever is already buffered.
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const done = (): void => resolve({ code: code ?? -1, signal, stdout, stderr });
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        done();
      }, 100);
      child.on('close', () => {
        clearTimeout(grace);
        done();
      });
    });
    // A child that exits without reading its stdin makes this write fail with EPIPE: not an error of the test.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export function tsrun(root: string, args: string[], opts: RunOptions = {}): Promise<Result> {
  return runCommand(tsrunBin, ['--root', root, ...args], opts);
}

export function runc(root: string, args: string[], opts: RunOptions = {}): Promise<Result> {
  return runCommand('runc', ['--root', root, ...args], opts);
}

/** The message of the last error line a CLI wrote on stderr (runc's text log format). */
export function errorOf(r: Result): string {
  const lines = r.stderr.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  const m = /level=error msg=("(?:[^"\\]|\\.)*")/.exec(last);
  return m ? (JSON.parse(m[1] ?? '""') as string) : last;
}

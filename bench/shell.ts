// Timed commands are run and timed by bash, as a user at a shell runs and times them:
// one long-lived bash reads a line per command, runs it with </dev/null >/dev/null and
// stderr to a file, and prints its exit code, $EPOCHREALTIME before and after, and `times`
// (the CPU its reaped children used), so the bench and bench/shell-check.sh measure the same
// thing. The environment is the user's: npm's own variables (npm_*, INIT_CWD, ...) and the
// node_modules/.bin entries npm put on PATH are taken out.
//
// Node's spawnSync would also block the event loop for the whole section, leaving the pipes
// of `ctr events` subscribers undrained; here the loop runs while bash works.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Variables npm adds to a script's environment: a user's shell has none of them. */
const NPM_ADDED = /^(npm_.*|INIT_CWD|NODE|COLOR|EDITOR|NODE_GYP_.*)$/;

export function userEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !NPM_ADDED.test(k)) out[k] = v;
  out.PATH = (env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .filter((d) => !d.endsWith('/node_modules/.bin') && !d.includes('/node-gyp-bin'))
    .join(':');
  return out;
}

export interface Timing {
  /** wall time, ms */
  ms: number;
  /** user + system time of the command and the descendants it reaped, ms */
  cpu: number;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

// `times` prints two lines: the shell's own user/system time, then its children's.
const PRELUDE = `
t() { local s f rc; s=$EPOCHREALTIME; "$@" </dev/null >/dev/null 2>"$TSRUN_BENCH_ERR"; rc=$?; f=$EPOCHREALTIME; echo "$rc $s $f"; times; }
`;

const seconds = (t: string): number => {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};

export class Shell {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly dir: string;
  private buffered = '';
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly lines: string[] = [];
  private childCpu = 0;

  constructor(env: Record<string, string> = userEnv()) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'tsrun-bench-shell-'));
    this.child = spawn('bash', ['--noprofile', '--norc', '-s'], {
      env: { ...env, TSRUN_BENCH_ERR: path.join(this.dir, 'stderr') },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const parts = (this.buffered + d).split('\n');
      this.buffered = parts.pop() ?? '';
      for (const line of parts) {
        const w = this.waiting.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    this.child.stdin.write(PRELUDE);
  }

  private line(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.child.exitCode !== null) return Promise.reject(new Error('the bench shell exited'));
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Runs argv from bash (with extra variables set for it alone) and times it there. */
  async time(argv: string[], env: Record<string, string> = {}): Promise<Timing> {
    const assigns = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
    this.child.stdin.write(`${[...assigns, 't', ...argv.map(quote)].join(' ')}\n`);
    const [rc, start, end] = (await this.line()).split(' ');
    await this.line(); // the shell's own times
    const [user, sys] = (await this.line()).split(' ');
    const cpu = (seconds(user ?? '') + seconds(sys ?? '')) * 1000;
    const used = cpu - this.childCpu;
    this.childCpu = cpu;
    if (rc !== '0') {
      let stderr = '';
      try {
        stderr = readFileSync(path.join(this.dir, 'stderr'), 'utf8').trim();
      } catch {
        // none
      }
      throw new Error(`${argv.join(' ')} failed (${rc}): ${stderr}`);
    }
    return { ms: (Number(end) - Number(start)) * 1000, cpu: used };
  }

  close(): void {
    this.child.stdin.end();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

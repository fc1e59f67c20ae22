// An unprivileged user of the test's own: made with useradd (which gives it a subordinate
// uid and gid range in /etc/subuid and /etc/subgid), a runtime directory for
// XDG_RUNTIME_DIR, and commands run as it through setpriv. remove() kills what is left of
// its processes (by pid), deletes the user with its ranges, and its runtime directory.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand, type Result, type RunOptions } from './cli.js';
import { TestBundle } from './bundle.js';
import { tsrunBin } from './paths.js';
import { defaultSpec } from '../../src/oci/defaults.js';

/** Test users are named with this prefix and the creating process's pid, for the sweep. */
const PREFIX = 'tsrl';
let counter = 0;
// Absolute: a test may give the user a PATH without them.
const SETPRIV = execFileSync('which', ['setpriv'], { encoding: 'utf8' }).trim();
const RUNC = execFileSync('which', ['runc'], { encoding: 'utf8' }).trim();

export interface IdRange {
  start: number;
  count: number;
}

function rangeOf(file: string, name: string): IdRange | undefined {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [owner, start, count] = line.split(':');
    if (owner === name && start && count) return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of every live process whose real uid is `uid` (a zombie is tini's to reap, and soon). */
export function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const m = /^Uid:\s+(\d+)/m.exec(status);
      if (m && Number(m[1]) === uid && !/^State:\s+Z/m.test(status)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function userdel(name: string, uid: number): void {
  for (let i = 0; i < 50; i++) {
    for (const pid of processesOf(uid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    try {
      execFileSync('userdel', ['-r', '-f', name], { stdio: 'pipe' });
      break;
    } catch (err) {
      const text = String((err as { stderr?: Buffer }).stderr ?? '');
      // userdel exits 12 when it could not remove the home (already gone): the user is gone.
      if (/does not exist/.test(text) || (err as { status?: number }).status === 12) break;
      execFileSync('sleep', ['0.1']);
    }
  }
  rmSync(`/run/user/${uid}`, { recursive: true, force: true });
}

/** Removes test users a killed run left behind (their creating process is gone). */
export function sweepTestUsers(): void {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid] = line.split(':');
    const m = name ? new RegExp(`^${PREFIX}(\\d+)x\\d+$`).exec(name) : null;
    if (!m || !name || isAlive(Number(m[1]))) continue;
    userdel(name, Number(uid));
  }
}

export class UnprivilegedUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly runtimeDir: string;
  readonly subuid: IdRange;
  readonly subgid: IdRange;

  private constructor(name: string) {
    this.name = name;
    const [, , uid, gid, , home] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
    this.uid = Number(uid);
    this.gid = Number(gid);
    this.home = home ?? '';
    const subuid = rangeOf('/etc/subuid', name);
    const subgid = rangeOf('/etc/subgid', name);
    if (!subuid || !subgid) throw new Error(`useradd gave ${name} no subordinate range (SUB_UID_COUNT in /etc/login.defs?)`);
    this.subuid = subuid;
    this.subgid = subgid;
    this.runtimeDir = `/run/user/${this.uid}`;
    mkdirSync(this.runtimeDir, { recursive: true, mode: 0o700 });
    chownSync(this.runtimeDir, this.uid, this.gid);
  }

  static create(): UnprivilegedUser {
    const name = `${PREFIX}${process.pid}x${++counter}`;
    const parent = mkdtempSync(path.join(os.tmpdir(), 'tsrun-home-'));
    chmodSync(parent, 0o755);
    const home = path.join(parent, name);
    // useradd takes a lock on /etc/passwd; another test's useradd may hold it a moment.
    for (let attempt = 0; ; attempt++) {
      try {
        execFileSync('useradd', ['-m', '-d', home, '-s', '/bin/sh', '-U', name], { stdio: 'pipe' });
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        execFileSync('sleep', ['0.2']);
      }
    }
    try {
      return new UnprivilegedUser(name);
    } catch (err) {
      userdel(name, Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })));
      throw err;
    }
  }

  /** The environment a login of this user would have (XDG_RUNTIME_DIR included). */
  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      HOME: this.home,
      USER: this.name,
      LOGNAME: this.name,
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      XDG_RUNTIME_DIR: this.runtimeDir,
    };
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  }

  /** Runs cmd as this user (its own uid, gid and groups) in env() plus `env`. */
  run(cmd: string, args: string[], opts: RunOptions & { extraEnv?: Record<string, string | undefined> } = {}): Promise<Result> {
    const setpriv = ['--reuid', String(this.uid), '--regid', String(this.gid), '--init-groups', '--', cmd, ...args];
    return runCommand(SETPRIV, setpriv, { ...opts, env: opts.env ?? this.env(opts.extraEnv) });
  }

  /** tsrun as this user, with its default --root unless args give one. */
  tsrun(args: string[], opts: RunOptions & { extraEnv?: Record<string, string | undefined> } = {}): Promise<Result> {
    return this.run(tsrunBin, args, opts);
  }

  runc(args: string[], opts: RunOptions & { extraEnv?: Record<string, string | undefined> } = {}): Promise<Result> {
    return this.run(RUNC, args, opts);
  }

  /** A bundle this user owns, with runc's `spec --rootless` config for this user's ids. */
  bundle(name: string, args: string[]): TestBundle {
    const b = new TestBundle(name, args);
    b.config = defaultSpec({ rootless: true, uid: this.uid, gid: this.gid });
    b.config.process.terminal = false;
    b.config.process.args = args;
    b.write();
    this.own(b.dir);
    return b;
  }

  /** Gives path (and everything below it) to this user. */
  own(dir: string): void {
    execFileSync('chown', ['-R', `${this.uid}:${this.gid}`, dir]);
  }

  /** The uid that owns a host path (for checks of what a mapping made). */
  static ownerOf(file: string): { uid: number; gid: number } {
    const s = statSync(file);
    return { uid: s.uid, gid: s.gid };
  }

  remove(): void {
    userdel(this.name, this.uid);
    const parent = path.dirname(this.home);
    if (existsSync(parent)) rmSync(parent, { recursive: true, force: true });
  }
}

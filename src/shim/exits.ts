// Reaping, as the subreaper of every process the server's containers leave behind.
//
// The processes we start (container inits and execs, cloned with CLONE_PARENT so they are
// our children) are watched through pidfds and reaped by pid through them, never with
// waitpid(-1): libuv reaps the children Node itself spawns (logging drivers) by pid, and
// neither side may take the other's exit. What is left are orphans reparented to us (a
// container without a pid namespace whose processes outlive their parents): on SIGCHLD we
// list our children and reap the zombies among them that nobody else owns. While the
// runtime is starting a process (its bootstrap, the new init before we watch it), orphan
// reaping waits, since those pids are not known yet.
import type { ChildProcess } from 'node:child_process';
import { closeSync, readdirSync, readFileSync } from 'node:fs';
import { logger } from '../log.js';
import { messageOf } from '../errors.js';
import { pidfdOpen, reap, setChildSubreaper, waitExit, type ProcessExit } from '../native/index.js';

export class Reaper {
  /** Pids whose exit a pidfd watcher collects. */
  readonly #watched = new Set<number>();
  /** Pids of Node's own children (libuv reaps them). */
  readonly #libuv = new Set<number>();
  #starting = 0;
  #scanPending = false;
  #scheduled = false;
  #onSigchld = (): void => this.#schedule();
  /** Orphans reaped so far (for tests and logs). */
  orphansReaped = 0;

  start(): void {
    setChildSubreaper(true);
    process.on('SIGCHLD', this.#onSigchld);
    this.#schedule();
  }

  stop(): void {
    process.off('SIGCHLD', this.#onSigchld);
  }

  /** The exit of our child pid, collected through its pidfd (which the caller keeps owning). */
  watch(pid: number, pidfd: number): Promise<ProcessExit> {
    this.#watched.add(pid);
    return waitExit(pidfd).finally(() => this.#watched.delete(pid));
  }

  /** Runs fn (which starts processes) with orphan reaping held off. */
  async starting<T>(fn: () => Promise<T>): Promise<T> {
    this.#starting++;
    try {
      return await fn();
    } finally {
      this.#starting--;
      if (this.#starting === 0 && this.#scanPending) this.#schedule();
    }
  }

  /** A child Node spawned: libuv reaps it. */
  spawned(child: ChildProcess): void {
    const pid = child.pid;
    if (pid === undefined) return;
    this.#libuv.add(pid);
    child.once('exit', () => this.#libuv.delete(pid));
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#scan();
    });
  }

  #scan(): void {
    if (this.#starting > 0) {
      this.#scanPending = true;
      return;
    }
    this.#scanPending = false;
    for (const pid of children()) {
      if (this.#watched.has(pid) || this.#libuv.has(pid) || !isZombie(pid)) continue;
      try {
        const fd = pidfdOpen(pid);
        try {
          if (reap(fd, false)) this.orphansReaped++;
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        logger.debug(`reap orphan ${pid}: ${messageOf(err)}`);
      }
    }
  }
}

/** Our children, from every thread's /proc children list (a child belongs to the thread that made it). */
function children(): number[] {
  const pids = new Set<number>();
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  for (const tid of tasks) {
    try {
      for (const p of readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ')) if (p.trim()) pids.add(Number(p));
    } catch {
      // thread gone
    }
  }
  return [...pids];
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return false;
  }
}

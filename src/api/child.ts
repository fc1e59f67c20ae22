// What a container's init and an exec'd process have in common as handles: their stdio
// streams or terminal, and their exit. The handle keeps a pidfd of the process: waiting on
// it reaps the process when this program is its parent (it made the container or the exec
// here), so the exit status is known; otherwise the exit is seen, and its status belongs
// to whoever reaps it (exitCode null).
//
// Nothing watches the process until someone waits: a program that makes a container and
// goes on (or exits) is not held by it, and the container keeps running.
import { closeSync } from 'node:fs';
import { constants as os } from 'node:os';
import { finished } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { SystemError } from '../errors.js';
import { exitCodeOf, pidfdSendSignal, type ProcessExit } from '../native/index.js';
import type { StdioStreams } from './stdio.js';
import type { Terminal } from './terminal.js';
import type { Spawner } from '../runtime/spawner.js';

export interface Exit {
  /**
   * The exit status, or 128 + the signal's number when a signal ended the process (what
   * shells and `tsrun run` report); null when this program was not its parent, so that the
   * status went to whoever reaped it.
   */
  exitCode: number | null;
  /** The signal that ended the process. */
  signal?: NodeJS.Signals;
}

const signalNames = new Map<number, NodeJS.Signals>(Object.entries(os.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

export function exitOf(e: ProcessExit): Exit {
  if (!e.reaped) return { exitCode: null };
  const signal = e.signal ? signalNames.get(e.signal) : undefined;
  return signal ? { exitCode: exitCodeOf(e), signal } : { exitCode: exitCodeOf(e) };
}

/**
 * How long after the exit wait() waits for output to end: another process of the container
 * (a background child of an exec'd shell, one without a pid namespace of its own) may hold
 * the pipe or the terminal open for as long as it lives.
 */
const DRAIN_MS = 2000;

/** A stream this program is reading (flowing, or with a 'readable' listener): its end is worth waiting for. */
function beingRead(s: Readable | null): s is Readable {
  return s !== null && !s.readableEnded && !s.destroyed && (s.readableFlowing === true || s.listenerCount('readable') > 0);
}

// A handle dropped without a wait or a release gives its pidfd back when collected.
const pidfds = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
});

export abstract class Child {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** The pty master, when the process has a terminal and no console socket took it. */
  readonly terminal: Terminal | null;
  /** -1: the spawner saw the process exit before it could be held (its exit() still says how) */
  #pidfd: number | null;
  #exit: Promise<Exit> | undefined;

  protected constructor(
    /** in this program's pid namespace */
    readonly pid: number,
    pidfd: number | null,
    /** the process's parent, which reaps it and says how it ended */
    private readonly spawner: Spawner,
    streams: StdioStreams,
    terminal: Terminal | null,
  ) {
    this.#pidfd = pidfd;
    if (pidfd !== null && pidfd >= 0) pidfds.register(this, pidfd, this);
    this.stdin = streams.stdin;
    this.stdout = streams.stdout;
    this.stderr = streams.stderr;
    this.terminal = terminal;
  }

  /**
   * Resolves once the process has exited and the output this program is reading (stdout,
   * stderr, the terminal) has ended, so that a 'data' listener has seen all of it; at most
   * 2 s after the exit, as something else may keep that output open. Output nobody reads
   * is not waited for. Once waited, the handle holds no fd.
   */
  wait(): Promise<Exit> {
    this.#exit ??= this.#waitExit().then(async (exit) => {
      const reading = [this.stdout, this.stderr, this.terminal].filter(beingRead);
      if (reading.length === 0) return exit;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((r) => (timer = setTimeout(r, DRAIN_MS)));
      await Promise.race([Promise.all(reading.map((s) => finished(s).catch(() => undefined))), bound]);
      clearTimeout(timer);
      return exit;
    });
    return this.#exit;
  }

  async #waitExit(): Promise<Exit> {
    const pidfd = this.#pidfd;
    if (pidfd === null) return { exitCode: null };
    try {
      // its exit as its parent reaps it: this program, the client of the CLI server's caller,
      // or the spawner the caller gave
      return exitOf(await this.spawner.exit(this.pid, pidfd));
    } finally {
      this.#closePidfd();
    }
  }

  #closePidfd(): void {
    if (this.#pidfd === null) return;
    if (this.#pidfd >= 0) {
      pidfds.unregister(this);
      closeSync(this.#pidfd);
    }
    this.#pidfd = null;
  }

  /** Sends a signal to the process itself, through its pidfd; false when it has exited (a
   *  signal the kernel refuses throws). */
  protected signalSelf(signal: number): boolean {
    if (this.#pidfd === null || this.#pidfd < 0) return false;
    try {
      pidfdSendSignal(this.#pidfd, signal);
      return true;
    } catch (err) {
      if (err instanceof SystemError && err.errno === os.errno.ESRCH) return false;
      throw err;
    }
  }

  /** Lets go of the process without waiting: its fd is closed, and its streams are ours no more. */
  protected release(): void {
    if (this.#exit === undefined) this.#closePidfd();
  }
}

// One process of a container (its init, or an exec) as the shim runs it: its transition
// table (process.ts: the one place its state is kept and its events published), the stdio
// the keeper holds for it, what signals it, its exit, and its line of the group's journal,
// written at each transition and each step the table does not see (pending).
import { constants as os } from 'node:os';
import { ExecProcess, type Container } from '../api/index.js';
import { NotFound, SystemError } from '../errors.js';
import { exitCodeOf, pidfdSendSignal } from '../native/index.js';
import type { ProcessSpec } from '../oci/spec.js';
import type { ContainerDeps } from './container.js';
import type { ProcessIO } from './io/process-io.js';
import { Journal, JOURNAL_VERSION, type Pending, type ProcessLine } from './journal.js';
import type { KeeperExit } from './keeper/link.js';
import { closePidfd } from './keeper/spawner.js';
import { Process, type ProcessKind, type Stdio } from './process.js';

/** What the brain signals a process through. */
export interface ProcessRef {
  /** false when the process has gone */
  signal(sig: number): boolean;
  release(): void;
}

/** The library's handle of a process this brain made (its pidfd the keeper's). */
export function handleRef(h: Container | ExecProcess): ProcessRef {
  return { signal: (sig) => (h instanceof ExecProcess ? h.kill(sig) : h.signal(sig)), release: () => h.unref() };
}

/** A pidfd the keeper gave for a process taken over from the journal (-1: it had exited by
 *  the time it was claimed). */
export function pidfdRef(pidfd: number): ProcessRef {
  return {
    signal: (sig) => {
      if (pidfd < 0) return false;
      try {
        pidfdSendSignal(pidfd, sig);
        return true;
      } catch (err) {
        if (err instanceof SystemError && err.errno === os.errno.ESRCH) return false;
        throw err;
      }
    },
    release: () => closePidfd(pidfd),
  };
}

export class ShimProcess {
  readonly proc: Process;
  #ref: ProcessRef | undefined;
  #handled: Promise<void> = Promise.resolve();
  #pending: Pending | undefined;
  /** the keeper reported the exit (the table's 'exit' may come later: the init's waits for its execs) */
  reaped = false;

  constructor(
    private readonly deps: ContainerDeps,
    kind: ProcessKind,
    containerId: string,
    id: string,
    stdio: Stdio,
    readonly io: ProcessIO,
    /** the journal's key for this process, and what its line holds besides the process */
    private readonly key: string,
    private readonly extra: () => object,
    readonly spec?: ProcessSpec,
  ) {
    this.proc = new Process(kind, containerId, id, stdio, deps.events, () => this.save());
  }

  get pid(): number {
    return this.proc.pid;
  }

  get pending(): Pending | undefined {
    return this.#pending;
  }

  set pending(p: Pending | undefined) {
    this.#pending = p;
    this.save();
  }

  /** Settles when the exit has been handled (the transition made), or at once for a process
   *  that was never watched. */
  get handled(): Promise<void> {
    return this.#handled;
  }

  /** The process runs as the keeper's child: signals go through ref, and its exit, once the
   *  keeper reports it, to onExit. */
  watch(pid: number, ref: ProcessRef, onExit: (e: KeeperExit) => Promise<void>): void {
    this.#ref = ref;
    this.#handled = this.deps.link.exit(pid).then((e) => {
      this.reaped = true;
      return onExit(e);
    });
  }

  /** The exit transition, and the keeper's leave to forget the exit, in one commit. */
  exited(e: KeeperExit): void {
    this.release();
    this.deps.link.ack(e.pid);
    this.proc.exited(exitCodeOf(e), e.at);
  }

  /** Signals the process if it is still there; quietly nothing otherwise. */
  signal(sig: number): void {
    try {
      this.#ref?.signal(sig);
    } catch {
      // already gone
    }
  }

  /** Signals the process; NotFound when it is gone. */
  signalOrNotFound(sig: number): void {
    if (!this.#ref || this.reaped || !this.#ref.signal(sig)) throw new NotFound('process already finished', { containerId: this.proc.containerId });
  }

  /** Lets go of what we hold of it (the keeper went, or the process is forgotten). */
  release(): void {
    this.#ref?.release();
    this.#ref = undefined;
  }

  /** The process's line of the journal, as it is now. */
  line(): ProcessLine {
    const p = this.proc;
    return {
      v: JOURNAL_VERSION,
      status: p.status,
      ...(this.#pending ? { pending: this.#pending } : {}),
      pid: p.pid,
      exitStatus: p.exitStatus,
      ...(p.exitedAt ? { exitedAt: p.exitedAt.toISOString() } : {}),
      io: this.io.id,
      stdio: p.stdio,
      ...this.extra(),
    };
  }

  save(): void {
    if (this.proc.status === 'deleted') {
      this.forget();
      return;
    }
    new Journal(this.deps.link).write(this.key, this.line());
  }

  forget(): void {
    new Journal(this.deps.link).forget(this.key);
  }
}

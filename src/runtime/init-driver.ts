// The one driver of tsrun-init, for create and exec alike: start the bootstrap through a
// Spawner, let the caller put it in the container's cgroups, send the plan, then answer
// the records of cpp/plan/sync.h until READY, each answer a step of set-up:
//
//   create: [USERNS: write the maps] CHILD_PID [HOOKS: run prestart, createRuntime]
//           [SECCOMP_FD: hand the listener to the agent] READY
//   exec:   CHILD_PID [SECCOMP_FD ...] READY
//
// Whatever fails, the caller's cleanup stack takes back what the driver started: the
// bootstrap, and the process once its pid is known.
import { closeSync } from 'node:fs';
import { constants as os } from 'node:os';
import { Internal, type TsrunError } from '../errors.js';
import { logger } from '../log.js';
import { InitProcess, pidfdSendSignal, type Plan, type StartInitOptions } from '../native/index.js';
import type { Cleanup } from './cleanup.js';
import { describeExit, type Spawner } from './spawner.js';

/** What the caller does for the records only some runs bring; a record without a handler
 *  is a protocol error. */
export interface RecordHandlers {
  /** USERNS: the bootstrap made a user namespace; its maps are to be written. */
  userns?(pid: number): Promise<void>;
  /** HOOKS: the prestart and createRuntime hooks; the container state for createContainer. */
  hooks?(pid: number): Promise<string>;
  /** SECCOMP_FD: the process's listener (numbered in the process), for the agent. */
  seccomp?(pid: number, pidfd: number, fd: number): void;
  /** Checked after each record: set-up was stopped from outside (a frozen cgroup). */
  stopped?(): TsrunError | null;
}

/** The process tsrun-init started and made ready: the caller owns its pidfd. */
export interface Ready {
  pid: number;
  pidfd: number;
}

function kill(pidfd: number): void {
  try {
    if (pidfd >= 0) pidfdSendSignal(pidfd, os.signals.SIGKILL);
  } catch {
    // already gone
  }
}

export class InitDriver {
  #pid = 0;
  /** -1 when the spawner says the process had exited by the time it was claimed */
  #pidfd = -1;
  #claimed = false;
  #bootstrapDone = false;
  readonly #bootstrapExit: Promise<unknown>;

  private constructor(
    private readonly spawner: Spawner,
    private readonly init: InitProcess,
    private readonly cleanup: Cleanup,
    /** 'container' or 'process', for what an early end says */
    private readonly subject: string,
  ) {
    this.#bootstrapExit = spawner.exit(init.bootstrapPid, init.bootstrapPidfd);
    cleanup.push('stop tsrun-init', () => this.finish());
  }

  /** Starts the bootstrap, which waits for the plan. */
  static async start(spawner: Spawner, opts: StartInitOptions, cleanup: Cleanup, subject: 'container' | 'process'): Promise<InitDriver> {
    const init = await InitProcess.start(opts, (req) => spawner.spawn(req));
    return new InitDriver(spawner, init, cleanup, subject);
  }

  /** The bootstrap started in the cgroup v2 directory it was given (no move by pid needed). */
  get bootstrapInCgroup(): boolean {
    return this.init.inCgroup;
  }

  /** The bootstrap: in our namespaces until it has read the plan. */
  get bootstrapPid(): number {
    return this.init.bootstrapPid;
  }

  /** Sends the plan, with fields learnt only after the start (rootless cgroups). */
  sendPlan(later: Partial<Plan> = {}): void {
    // with --debug, tsrun-init reports its steps (DEBUG records), which go to the log as ours
    this.init.sendPlan({ ...later, debug: logger.debugging });
    logger.debug(`${this.subject}: plan sent to tsrun-init (bootstrap pid ${this.init.bootstrapPid})`);
  }

  /** Stops set-up from outside: the bootstrap and the process (when there is one) die. */
  kill(): void {
    kill(this.init.bootstrapPidfd);
    kill(this.#pidfd);
  }

  /** Answers the records until READY. */
  async run(handlers: RecordHandlers = {}): Promise<Ready> {
    for (;;) {
      const rec = await this.init.next();
      const stopped = handlers.stopped?.();
      if (stopped) throw stopped;
      if (rec === null) throw new Internal(`tsrun-init ${this.#howItEnded()} before the ${this.subject} was ready`);
      switch (rec.kind) {
        case 'error':
          throw rec.error;
        case 'debug':
          logger.debug(`tsrun-init[${rec.pid}]: ${rec.detail}`);
          break;
        case 'ready':
          if (!this.#claimed) throw new Internal('tsrun-init was ready before it said which process it started');
          logger.debug(`${this.subject}: pid ${this.#pid} is ready`);
          return { pid: this.#pid, pidfd: this.#pidfd };
        case 'child-pid':
          logger.debug(`${this.subject}: tsrun-init started pid ${rec.pid}`);
          await this.#claim(rec.pid);
          break;
        case 'userns':
          if (!handlers.userns) throw new Internal('tsrun-init made a user namespace nobody asked for');
          logger.debug(`${this.subject}: write the user namespace's maps of pid ${rec.pid}`);
          await handlers.userns(rec.pid);
          this.init.mapsWritten();
          break;
        case 'hooks':
          if (!handlers.hooks) throw new Internal('tsrun-init asked for hooks nobody gave');
          logger.debug(`${this.subject}: prestart and createRuntime hooks`);
          this.init.hooksDone(await handlers.hooks(this.#pid));
          break;
        case 'seccomp-fd':
          if (!handlers.seccomp) throw new Internal('tsrun-init reported a seccomp listener nobody asked for');
          logger.debug(`${this.subject}: hand the seccomp listener to the agent`);
          handlers.seccomp(this.#pid, this.#pidfd, rec.fd);
          this.init.seccompDone();
          break;
      }
    }
  }

  /** The bootstrap's part is over (it exits once its child is ready): it goes. */
  async finish(): Promise<void> {
    if (this.#bootstrapDone) return;
    this.#bootstrapDone = true;
    kill(this.init.bootstrapPidfd);
    await this.#bootstrapExit.catch(() => undefined);
    closeSync(this.init.bootstrapPidfd);
    this.init.close();
  }

  async #claim(pid: number): Promise<void> {
    const pidfd = await this.spawner.claim(pid);
    this.#pid = pid;
    this.#pidfd = pidfd;
    this.#claimed = true;
    this.cleanup.push(`kill the ${this.subject}`, async () => {
      kill(pidfd);
      await this.spawner.exit(pid, pidfd).catch(() => undefined);
      if (pidfd >= 0) closeSync(pidfd);
    });
  }

  #howItEnded(): string {
    const exit = this.#claimed ? this.spawner.exitNow(this.#pid, this.#pidfd) : null;
    return exit ? describeExit(exit) : 'closed the channel';
  }
}

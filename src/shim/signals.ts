// How Kill reaches a container's init and every process, as containerd's runc shim has it:
// the init through its pidfd (NotFound once it has gone), every process through the
// library's kill --all, and the freezer put back as the task's state is (a paused task stays
// paused unless killed; a frozen process takes SIGKILL only once thawed). And what is left
// when the init goes: without a pid namespace of its own, its death takes nobody with it.
import { constants as os } from 'node:os';
import type { Runtime } from '../api/index.js';
import { FailedPrecondition } from '../errors.js';
import type { ShimProcess } from './shim-process.js';

const { SIGKILL } = os.signals;

export class ContainerSignals {
  #ownPidNamespace: Promise<boolean> | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly id: string,
    private readonly init: ShimProcess,
  ) {
    // Read once the request that made us has been answered, so that an exit need not wait for it.
    setImmediate(() => void this.#ownsPidNamespace().catch(() => undefined));
  }

  /** Kill of the init (execId ""), or with all of every process. */
  async kill(sig: number, all: boolean): Promise<void> {
    const paused = this.init.proc.status === 'paused';
    if (all) {
      // (Rootless without a cgroup, the library signals the init, whose pid namespace takes the rest.)
      await this.rt.kill(this.id, sig, { all: true });
      // A signal to all thaws what it froze to signal; a paused task stays paused unless killed.
      if (paused && sig !== SIGKILL) await this.#freezer('pause');
      return;
    }
    this.init.signalOrNotFound(sig);
    // A frozen process dies only once thawed.
    if (paused && sig === SIGKILL) await this.#freezer('resume');
  }

  /** The init has exited: what shared its pid namespace goes too. */
  async initExited(): Promise<void> {
    if (!(await this.#ownsPidNamespace())) await this.rt.kill(this.id, SIGKILL, { all: true });
  }

  /** containerd lost the shim for this container: whatever runs is stopped. */
  async stop(): Promise<void> {
    if (await this.#ownsPidNamespace()) this.init.signal(SIGKILL);
    else await this.rt.kill(this.id, SIGKILL, { all: true });
    if (this.init.proc.status === 'paused' || this.init.proc.status === 'pausing') await this.#freezer('resume');
  }

  /** Whether the container has a pid namespace of its own (its config says so; read once). */
  #ownsPidNamespace(): Promise<boolean> {
    this.#ownPidNamespace ??= this.rt.config(this.id).then(
      (config) => (config.linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path),
      (err: unknown) => {
        this.#ownPidNamespace = undefined;
        throw err;
      },
    );
    return this.#ownPidNamespace;
  }

  /** The freezer's state back as the task's is, after a signal to all (which thaws what it
   *  froze) or a SIGKILL (which a frozen process takes only once thawed); quietly nothing
   *  when the container is no longer what it would change (its processes went). */
  async #freezer(to: 'pause' | 'resume'): Promise<void> {
    try {
      await (to === 'pause' ? this.rt.pause(this.id) : this.rt.resume(this.id));
    } catch (err) {
      if (!(err instanceof FailedPrecondition)) throw err;
    }
  }
}

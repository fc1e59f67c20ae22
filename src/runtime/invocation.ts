// The process a command runs for. Usually this one (`node bin/tsrun.cjs ...`); under the CLI
// server (src/server) another one: the native `tsrun` a caller ran, which handed the
// server its argv, cwd, environment and fds, and which spawns tsrun-init itself so that the
// container's init is the caller's descendant, as with runc. Per call, then: where relative
// paths start, the environment, stdio and the fds --preserve-fds names, who spawns
// tsrun-init and reaps what it spawned, and the signals the caller receives. Held in an
// AsyncLocalStorage, so that calls the server runs side by side each see their own.
import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import { here, type Spawner } from './spawner.js';

export interface Invocation {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** this process's fds for the caller's stdin, stdout and stderr */
  readonly stdio: readonly [number, number, number];
  /** this process's fd for the caller's fd n (--preserve-fds: 3 onwards) */
  fd(n: number): number;
  readonly spawner: Spawner;
  /** Calls listener with each of signals the caller receives; returns what stops it. */
  onSignals(signals: readonly NodeJS.Signals[], listener: (signal: NodeJS.Signals) => void): () => void;
  /** false when the caller is another process, whose terminal this one cannot proxy */
  readonly local: boolean;
  /**
   * Tells the caller the tsrun arguments that take back what this call has begun (a create's
   * reserved state, cgroups), for it to run itself should this process die half-way.
   */
  undoIfLost?(args: string[]): void;
}

const thisProcess: Invocation = {
  get cwd() {
    return process.cwd();
  },
  get env() {
    return process.env;
  },
  stdio: [0, 1, 2],
  fd: (n) => n,
  spawner: here,
  onSignals: (signals, listener) => {
    const handlers = signals.map((sig) => [sig, () => listener(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    return () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
  },
  local: true,
};

const scope = new AsyncLocalStorage<Invocation>();

export function invocation(): Invocation {
  return scope.getStore() ?? thisProcess;
}

export function withInvocation<T>(inv: Invocation, fn: () => T): T {
  return scope.run(inv, fn);
}

/** A path given on the command line, made absolute from the caller's working directory. */
export function callerPath(p: string): string {
  return path.resolve(invocation().cwd, p);
}

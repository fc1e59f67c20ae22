// Who starts tsrun-init and is the parent of the processes it makes (the bootstrap's
// CLONE_PARENT child, a container's init or an exec'd process): the one seam the driver of
// tsrun-init (init-driver.ts) goes through.
//
// The CLI starts it in-process (`here`): the addon's vfork-style spawn, pidfds, waitid.
// The shim starts it through the group's keeper (src/shim/keeper/spawner.ts), which is the
// parent and subreaper of the group's processes, so that they outlive a shim brain.
import { exitCodeOf, pidfdOpen, reap, spawnHere, waitExit, type ProcessExit, type Spawned, type SpawnRequest } from '../native/index.js';

export type { ProcessExit, Spawned, SpawnRequest };

export interface Spawner {
  /** Starts tsrun-init (the bootstrap), the spawner's child. */
  spawn(req: SpawnRequest): Promise<Spawned>;
  /** A pidfd (the caller's to close) for pid, a child of the bootstrap and so the spawner's;
   *  -1 when the process has exited already (exit() still tells how). */
  claim(pid: number): Promise<number>;
  /** Resolves when a process the spawner is the parent of has exited, with how. */
  exit(pid: number, pidfd: number): Promise<ProcessExit>;
  /** How it ended if it has, without waiting; null while it runs or when nobody can tell. */
  exitNow(pid: number, pidfd: number): ProcessExit | null;
}

/** This process is the parent: the CLI, and anything else that waits for its own children. */
export const here: Spawner = {
  spawn: async (req) => spawnHere(req),
  claim: async (pid) => pidfdOpen(pid),
  exit: (_pid, pidfd) => waitExit(pidfd),
  exitNow: (_pid, pidfd) => reap(pidfd, false),
};

/** "exited with 3", "was killed by signal 9"; "exited" when it was not ours to reap. */
export function describeExit(e: ProcessExit): string {
  if (!e.reaped) return 'exited';
  return e.signal ? `was killed by signal ${e.signal}` : `exited with ${exitCodeOf(e)}`;
}

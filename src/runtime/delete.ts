// delete: stop what is left of a container and remove every trace of it: processes,
// cgroups, state. A created container is deleted without --force, as runc does (containerd
// relies on it); a running or paused one needs --force.
import { closeSync } from 'node:fs';
import { constants as os } from 'node:os';
import { cgroupManager } from '../cgroups/factory.js';
import { FailedPrecondition, messageOf, NotFound, Timeout } from '../errors.js';
import { logger } from '../log.js';
import { pidfdSendSignal } from '../native/index.js';
import { Container } from './container.js';
import { signalAll } from './kill.js';
import type { StateStore } from './state-store.js';
import { runHooksWarning } from './hooks.js';
import { removeRdt } from './intel-rdt.js';
import { waitGone } from './wait.js';

const KILL_TIMEOUT_MS = 10_000;

async function killInit(container: Container): Promise<void> {
  const pidfd = container.openInit();
  if (pidfd === null) return;
  try {
    pidfdSendSignal(pidfd, os.signals.SIGKILL);
    // A frozen task does not die until thawed.
    await container.cgroup().thaw();
    if (!(await waitGone(pidfd, KILL_TIMEOUT_MS))) {
      throw new Timeout(`container init ${container.state.pid} still running ${KILL_TIMEOUT_MS / 1000}s after SIGKILL`, { containerId: container.id });
    }
  } finally {
    closeSync(pidfd);
  }
}

/** A create killed before its state file: its cgroups (and whatever runs in them), its directory. */
async function removeHalfCreated(store: StateStore, id: string): Promise<void> {
  const claims = store.loadClaims(id);
  if (claims) {
    const cgroup = cgroupManager(claims.cgroupPaths);
    try {
      if (cgroup.exists()) await signalAll(cgroup, 9);
    } catch {
      // Killed while making the cgroups: some (the freezer) may be missing, and none holds a
      // process yet (the init joins once all exist).
    }
    await cgroup.destroy();
  }
  store.remove(id);
}

/** Removes a stopped container's cgroups and state; poststop hooks run in hookCwd (the bundle by default). */
export async function destroy(container: Container, hookCwd?: string): Promise<void> {
  const cgroup = container.cgroup();
  // Without a pid namespace of its own the init's death takes nobody else with it.
  if (!container.state.ownPidNamespace && cgroup.exists()) await signalAll(cgroup, 9);
  try {
    await cgroup.destroy();
  } catch (err) {
    // Processes the container did not start (its cgroup was not empty at create) keep the
    // cgroup busy: runc says so and still deletes the container.
    if (!cgroup.exists() || cgroup.procs().length === 0) throw err;
    logger.error(`Failed to remove cgroup: ${messageOf(err)}`);
  }
  removeRdt(container.state.rdt);
  container.store.remove(container.id);
  logger.debug(`delete ${container.id}: cgroups and state removed`);
  if (container.hasHooks('poststop')) await runHooksWarning(container.config(), 'poststop', container.hookState('stopped'), hookCwd);
}

/** hookCwd: where poststop hooks run; `tsrun delete` gives its own cwd, as runc's delete. */
export async function deleteContainer(store: StateStore, id: string, force: boolean, hookCwd?: string): Promise<void> {
  let container: Container;
  try {
    container = Container.load(store, id);
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    // A create that died before writing its state leaves the directory and what it claimed.
    if (store.hasDir(id)) await removeHalfCreated(store, id);
    if (force) return;
    throw err;
  }
  const status = container.status();
  if ((status === 'running' || status === 'paused') && !force) {
    throw new FailedPrecondition(`cannot delete container ${id} that is not stopped: ${status}`, { containerId: id });
  }
  logger.debug(`delete ${id}: ${status}${status !== 'stopped' ? `, kill pid ${container.state.pid}` : ''}`);
  if (status !== 'stopped') await killInit(container);
  await destroy(container, hookCwd);
}

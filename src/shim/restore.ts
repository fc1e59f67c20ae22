// A container an earlier brain left in the journal, taken over: its processes claimed again
// from the keeper (their exits, and those that came while no brain ran, follow), and what
// was cut short judged from the runtime's state. A create cut short is undone (undefined);
// a start cut short happened when the runtime says the container runs; a delete cut short
// is finished, and the container stays stopped for containerd to delete it again; one a
// kill --all cut short left frozen is thawed.
import type { Runtime, Status } from '../api/index.js';
import { messageOf, NotFound } from '../errors.js';
import { logger } from '../log.js';
import { runtimeOn, ShimContainer, type ContainerDeps } from './container.js';
import { ProcessIO } from './io/process-io.js';
import { containerKey, execKey, processState, type ContainerLine, type ExecLine } from './journal.js';
import { keeperSpawner } from './keeper/spawner.js';
import { unmountAll } from './rootfs.js';
import { pidfdRef } from './shim-process.js';

/** root: the state root (<root>/<namespace>) */
export async function restoreContainer(deps: ContainerDeps, line: ContainerLine, execs: ExecLine[], root: string): Promise<ShimContainer | undefined> {
  const io = ProcessIO.adopt(deps.link, line.io);
  const rt = runtimeOn(root, line.options);
  const state = line.pending === 'create' ? undefined : await rt.state(line.id).catch((err: unknown) => (err instanceof NotFound ? undefined : Promise.reject(err)));
  if (!state) {
    await undoCreate(deps, line, execs, rt, io);
    return undefined;
  }
  const sc = new ShimContainer(deps, line.id, rt, line.bundle, io, line.mounted, line.stdio, line.options);
  const init = sc.init.proc;
  init.restore(processState(line));
  for (const x of execs) sc.execs.restore(x);
  const live = ['created', 'running', 'pausing', 'paused'].includes(line.status);
  if (live) {
    const pidfd = await keeperSpawner(deps.link, line.io).claim(line.pid);
    sc.watchInit(line.pid, pidfdRef(pidfd));
    // What the runtime says now settles what the journal could not.
    const now = line.status === 'created' || line.status === 'running' ? await thawLeftFrozen(rt, line.id, state.status) : state.status;
    if (line.status === 'created' && now === 'running' && init.can('start')) init.transition('start');
    if (line.status === 'pausing') init.transition(now === 'paused' ? 'paused' : 'pauseFailed');
    if (init.status === 'running' || init.status === 'paused') sc.watchOom();
  }
  await sc.execs.reclaim();
  if (line.pending === 'delete') await sc.finishDelete();
  sc.init.save();
  return sc;
}

/** A kill --all freezes the container while it signals (cgroup v1 has no cgroup.kill), and
 *  a brain that died in between left it frozen, its signal pending, where the journal and
 *  containerd see it created or running: thawed, it takes the signal, and an exec may join
 *  it. The runtime's status after. */
async function thawLeftFrozen(rt: Runtime, id: string, status: Status): Promise<Status> {
  if (status !== 'paused') return status;
  logger.warn(`container ${id}: left frozen by the brain's end; thawing it`);
  try {
    await rt.resume(id);
    return (await rt.state(id)).status;
  } catch (err) {
    logger.warn(`thaw ${id}: ${messageOf(err)}`);
    return status;
  }
}

/** A create cut short by its brain's death: everything it may have made goes (its processes
 *  with its cgroups, its state, mounts and stdio), and so do its lines. */
async function undoCreate(deps: ContainerDeps, line: ContainerLine, execs: ExecLine[], rt: Runtime, io: ProcessIO): Promise<void> {
  logger.warn(`container ${line.id}: its create was cut short by the brain's end; undoing it`);
  try {
    // (none made: a forced delete succeeds)
    await rt.delete(line.id, { force: true });
  } catch (err) {
    logger.warn(`undo create of ${line.id}: ${messageOf(err)}`);
  }
  if (line.mounted) unmountAll(line.mounted);
  await io.close();
  deps.link.forget(containerKey(line.id));
  for (const x of execs) deps.link.forget(execKey(line.id, x.execId));
}

// Create: a container made for containerd. Its rootfs mounted, its stdio opened for the
// keeper, its journal line written (a brain that dies from there on leaves its successor
// what to undo), then the library's create with the keeper as the spawner of that one call.
// Whatever fails undoes, in reverse, what was done.
import path from 'node:path';
import type { CreateTaskRequest } from '../gen/containerd/task/v2/shim_pb.js';
import { messageOf, Unimplemented } from '../errors.js';
import { logger } from '../log.js';
import { runtimeOn, ShimContainer, type ContainerDeps } from './container.js';
import { ProcessIO } from './io/process-io.js';
import { containerKey, encodeLine, JOURNAL_VERSION, type ContainerLine } from './journal.js';
import { keeperSpawner } from './keeper/spawner.js';
import type { ShimOptions } from './options.js';
import { stdioOf } from './process.js';
import { mountRootfs, unmountAll } from './rootfs.js';
import { handleRef } from './shim-process.js';

/** root: the state root (<root>/<namespace>) */
export async function createContainer(deps: ContainerDeps, req: CreateTaskRequest, root: string, options: ShimOptions): Promise<ShimContainer> {
  if (req.checkpoint) throw new Unimplemented('checkpoint: restoring a task from a checkpoint is not supported yet');
  const undo: Array<() => void | Promise<void>> = [];
  const rollback = async (): Promise<void> => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (err) {
        logger.warn(`undo create of ${req.id}: ${messageOf(err)}`);
      }
    }
  };
  const key = containerKey(req.id);
  try {
    let mounted: string | undefined;
    if (req.rootfs.length > 0) {
      const target = path.join(req.bundle, 'rootfs');
      mountRootfs(req.rootfs, target);
      mounted = target;
      undo.push(() => unmountAll(target));
    }
    const io = await ProcessIO.open(deps.link, {
      ...stdioOf(req),
      containerId: req.id,
      namespace: deps.namespace,
      uid: options.ioUid,
      gid: options.ioGid,
    });
    undo.push(() => io.close());
    // A brain that dies from here on leaves its successor what to undo.
    const line = (pid: number): ContainerLine => ({
      v: JOURNAL_VERSION,
      status: 'new',
      pending: 'create',
      pid,
      exitStatus: 0,
      io: io.id,
      stdio: stdioOf(req),
      id: req.id,
      bundle: req.bundle,
      ...(mounted ? { mounted } : {}),
      options,
    });
    deps.link.record(key, encodeLine(line(0)));
    undo.push(() => deps.link.forget(key));
    const rt = runtimeOn(root, options);
    const handle = await rt.create(req.id, {
      bundle: req.bundle,
      stdio: io.slots,
      consoleSocketFd: io.consoleSocketFd,
      noPivot: options.noPivot,
      noNewKeyring: options.noNewKeyring,
      spawner: keeperSpawner(deps.link, io.id, (pid) => deps.link.record(key, encodeLine(line(pid)))),
    });
    const pid = handle.pid;
    undo.push(async () => {
      handle.unref();
      await rt.delete(req.id, { force: true });
      // Killed by the delete (its cgroup): its exit is ours to acknowledge.
      deps.link.ack((await deps.link.exit(pid)).pid);
    });
    io.started();
    const sc = new ShimContainer(deps, req.id, rt, req.bundle, io, mounted, stdioOf(req), options);
    sc.init.proc.created(pid, { bundle: req.bundle, rootfs: req.rootfs, checkpoint: req.checkpoint });
    sc.watchInit(pid, handleRef(handle));
    return sc;
  } catch (err) {
    await rollback();
    throw err;
  }
}

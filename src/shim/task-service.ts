// containerd.task.v2.Task: each method finds the container (and process) the request names
// and calls it; errors become ttrpc codes in status-map.ts, nowhere else.
import type { Server } from '../ttrpc/server.js';
import type { ServiceImpl } from '../ttrpc/service.js';
import { Task } from '../gen/containerd/task/v2/shim_pb.js';
import { Status } from '../gen/containerd/types/task/task_pb.js';
import { Unimplemented } from '../errors.js';
import { logger } from '../log.js';
import type { ShimContainer } from './container.js';
import type { ProcessStatus } from './process.js';
import type { Shim } from './shim.js';
import { toStatusError } from './status-map.js';
import { exitTimestamp } from './timestamps.js';

const STATUS: Record<ProcessStatus, Status> = {
  new: Status.UNKNOWN,
  created: Status.CREATED,
  running: Status.RUNNING,
  pausing: Status.PAUSING,
  paused: Status.PAUSED,
  stopped: Status.STOPPED,
  deleted: Status.STOPPED,
};

/** Runs a handler with its failure turned into the status containerd expects. */
async function answer<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStatusError(err);
  }
}

/** The answer of methods that return google.protobuf.Empty. */
function empty(_done: void): Record<string, never> {
  return {};
}

/** An exec reports its container's pause, as the runc shim's do. */
function statusOf(c: ShimContainer, execId: string): Status {
  const own = c.process(execId).proc.status;
  const init = c.init.proc.status;
  if (execId && (init === 'paused' || init === 'pausing') && own === 'running') return STATUS[init];
  return STATUS[own];
}

export function registerTaskService(server: Server, shim: Shim): void {
  const impl: ServiceImpl<typeof Task.method> = {
    state: (req) =>
      answer(() => {
        const c = shim.get(req.id);
        const p = c.process(req.execId).proc;
        return {
          id: p.id,
          bundle: c.bundle,
          pid: p.pid,
          status: statusOf(c, req.execId),
          stdin: p.stdio.stdin,
          stdout: p.stdio.stdout,
          stderr: p.stdio.stderr,
          terminal: p.stdio.terminal,
          exitStatus: p.exitStatus,
          exitedAt: exitTimestamp(p.exitedAt),
        };
      }),
    create: (req) => answer(async () => ({ pid: (await shim.create(req)).init.pid })),
    start: (req) => answer(async () => ({ pid: await shim.get(req.id).start(req.execId) })),
    delete: (req) =>
      answer(async () => {
        const r = req.execId ? await shim.get(req.id).deleteExec(req.execId) : await shim.deleteContainer(req.id);
        return { pid: r.pid, exitStatus: r.exitStatus, exitedAt: exitTimestamp(r.exitedAt) };
      }),
    pids: (req) => answer(async () => ({ processes: await shim.get(req.id).pids() })),
    pause: (req) => answer(async () => empty(await shim.get(req.id).pause())),
    resume: (req) => answer(async () => empty(await shim.get(req.id).resume())),
    checkpoint: (req) =>
      answer(() => {
        shim.get(req.id);
        throw new Unimplemented('checkpoint: checkpointing a task is not supported yet (no CRIU support in tsrun)');
      }),
    kill: (req) => answer(async () => empty(await shim.get(req.id).kill(req.execId, req.signal, req.all))),
    exec: (req) => answer(async () => empty(await shim.get(req.id).exec(req))),
    resizePty: (req) => answer(() => empty(shim.get(req.id).resize(req.execId, req.width, req.height))),
    closeIO: (req) =>
      answer(() => {
        const c = shim.get(req.id);
        if (req.stdin) c.closeStdin(req.execId);
        return {};
      }),
    update: (req) => answer(async () => empty(await shim.get(req.id).update(req.resources))),
    wait: (req) =>
      answer(async () => {
        const p = shim.get(req.id).process(req.execId).proc;
        await p.wait();
        return { exitStatus: p.exitStatus, exitedAt: exitTimestamp(p.exitedAt) };
      }),
    stats: (req) => answer(async () => ({ stats: await shim.get(req.id).stats() })),
    connect: (req) => answer(() => ({ shimPid: shim.deps.shimPid, taskPid: shim.find(req.id)?.init.pid ?? 0, version: '' })),
    shutdown: () =>
      answer(() => {
        shim.shutdown();
        return {};
      }),
  };
  server.register(Task, traced(impl));
}

/** Each call as a debug line: method, container, exec. */
function traced<T extends object>(impl: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl) as Array<[string, (req: { id?: string; execId?: string }, ctx: unknown) => unknown]>) {
    out[name] = (req: { id?: string; execId?: string }, ctx: unknown) => {
      logger.debug(`${name} ${req.id ?? ''}${req.execId ? ` exec ${req.execId}` : ''}`);
      return fn(req, ctx);
    };
  }
  return out as T;
}

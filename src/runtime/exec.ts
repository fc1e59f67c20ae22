// exec: a new process in a running (or created) container.
//
//   parent                         tsrun-init bootstrap               exec'd process
//   open a pidfd of the init       (spawned by the spawner)
//   put the bootstrap in the
//   container's cgroups; PLAN ->   non-dumpable; setns(pidfd, all)
//                                  clone(CLONE_PARENT) ------------->  session, keyring, console,
//                        <-------  CHILD_PID                           identity, caps, rlimits
//                        [<------------------------------------------  SECCOMP_FD: to the agent]
//                        <-------------------------------------------  READY; execve
//
// The process is the spawner's child (CLONE_PARENT): ours for `exec` without --detach, which
// waits for it through its pidfd; the group's keeper's in the shim. init-driver.ts drives
// the exchange, as it does for create.
import { closeSync } from 'node:fs';
import { cgroupManager } from '../cgroups/factory.js';
import { subCgroupPaths } from '../cgroups/sub-paths.js';
import { FailedPrecondition, Internal, SystemError, withContext } from '../errors.js';
import { logger } from '../log.js';
import { errnoText, unixConnect } from '../native/index.js';
import type { ProcessSpec } from '../oci/spec.js';
import { Cleanup } from './cleanup.js';
import type { Container } from './container.js';
import { writePidFile } from './create.js';
import { InitDriver } from './init-driver.js';
import { currentCaller, refuseAdditionalGids } from './rootless.js';
import { buildExecPlan } from './plan/exec.js';
import { seccompListener } from './plan/seccomp.js';
import { handOverListener } from './seccomp-agent.js';
import { callerPath, invocation } from './invocation.js';
import type { Spawner } from './spawner.js';

export interface ExecOptions {
  process: ProcessSpec;
  pidFile?: string;
  consoleSocket?: string;
  /** a connected console socket given as an fd instead (for our own tty proxy) */
  consoleSocketFd?: number;
  preserveFds?: number;
  stdio?: [number, number, number];
  ignorePaused?: boolean;
  /** `--cgroup`: sub-cgroups of the container's to put the process in (cgroups/sub-paths.ts) */
  subCgroups?: readonly string[];
  /** who starts tsrun-init and is the process's parent; this process by default */
  spawner?: Spawner;
}

export interface ExecHandle {
  pid: number;
  /** pidfd of the exec'd process: the caller owns it (waits on it, closes it) */
  pidfd: number;
}

export async function startExec(container: Container, opts: ExecOptions): Promise<ExecHandle> {
  const status = container.status();
  if (status === 'stopped') throw new FailedPrecondition('cannot exec in a stopped container', { containerId: container.id });
  if (status === 'paused' && !opts.ignorePaused) {
    throw new FailedPrecondition('cannot exec in a paused container (use --ignore-paused to override)', { containerId: container.id });
  }
  const proc = opts.process;
  if (proc.terminal && !opts.consoleSocket && opts.consoleSocketFd === undefined) {
    throw new FailedPrecondition('--console-socket: a terminal needs a console socket to hand it over', { containerId: container.id });
  }
  const config = container.config();
  const caller = currentCaller();
  refuseAdditionalGids(proc.user.additionalGids, 'process.user.additionalGids', caller);
  const plan = buildExecPlan(container.id, config, proc, container.state.noNewKeyring ?? false, caller.euid !== 0);
  const listener = seccompListener(config);
  const cgroup = opts.subCgroups?.length ? cgroupManager(subCgroupPaths(container.state.cgroupPaths, opts.subCgroups)) : container.cgroup();

  logger.debug(`exec ${container.id}: ${JSON.stringify(proc.args ?? [])} into the namespaces of pid ${container.state.pid}`);
  const cleanup = new Cleanup();
  const fds: number[] = [];
  try {
    const initFd = container.openInit();
    if (initFd === null) throw new FailedPrecondition('cannot exec in a stopped container', { containerId: container.id });
    fds.push(initFd);
    const consoleFd = opts.consoleSocket ? unixConnect(callerPath(opts.consoleSocket)) : opts.consoleSocketFd;
    if (opts.consoleSocket && consoleFd !== undefined) fds.push(consoleFd);
    const preserveFds = opts.preserveFds ?? 0;
    const inv = invocation();
    // Into a frozen cgroup, a clone would freeze before its exec, and a vfork-style spawner
    // with it: a paused container (--ignore-paused) gets its process moved by pid instead.
    const join = status === 'paused' ? { tasks: cgroup.selfJoin().tasks } : cgroup.selfJoin();
    const driver = await InitDriver.start(
      opts.spawner ?? inv.spawner,
      { plan, stdio: opts.stdio ?? [...inv.stdio], preserveFds: Array.from({ length: preserveFds }, (_, i) => inv.fd(3 + i)), consoleSocketFd: consoleFd, joinFd: initFd, cgroup: join.dir },
      cleanup,
      'process',
    );
    try {
      cgroup.addProcess(driver.bootstrapPid, { tasks: join.tasks, dir: driver.bootstrapInCgroup ? join.dir : undefined });
    } catch (err) {
      // runc's words ("error adding pid N to cgroups: ... no such file or directory")
      const why = err instanceof SystemError && err.errno ? `: ${errnoText(err.errno)}` : '';
      throw withContext(`error adding pid ${driver.bootstrapPid} to cgroups${why}`, err);
    }
    driver.sendPlan({ cgroupTasks: join.tasks });
    const ready = await driver.run({
      seccomp: (pid, pidfd, fd) => {
        // The container's profile, and so its agent: told of a process in a running container.
        if (!listener) throw new Internal('tsrun-init reported a seccomp listener nobody asked for');
        const owner = { id: container.id, bundle: container.state.bundle, annotations: container.state.annotations, initPid: container.state.pid, status: 'running' as const, pid };
        handOverListener(listener, owner, pidfd, fd);
      },
    });
    await driver.finish();
    if (opts.pidFile) writePidFile(opts.pidFile, ready.pid);
    cleanup.release();
    return ready;
  } catch (err) {
    await cleanup.run();
    throw err;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

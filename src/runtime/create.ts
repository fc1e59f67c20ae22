// create: everything up to the point where the container's init waits on the exec fifo.
//
//   judge the bundle (nothing is touched before it passes)
//   claim <root>/<id>, make exec.fifo, create the cgroups
//   spawn tsrun-init's bootstrap (through the spawner), put it in the cgroups, send the plan
//   answer its records until ready (init-driver.ts): user namespace maps, hooks, seccomp
//   write state.json and the pid file
//
// Whatever fails, the cleanup stack takes back each step in reverse.
import { closeSync, renameSync, writeFileSync } from 'node:fs';
import { constants as os } from 'node:os';
import path from 'node:path';
import { hostLayout } from '../cgroups/detect.js';
import { cgroupManager } from '../cgroups/factory.js';
import { joinRootless, makeRootless, mountSources } from '../cgroups/rootless.js';
import { cgroupPaths, ownCgroupPaths } from '../cgroups/paths.js';
import { systemdCgroupPaths } from '../cgroups/systemd/paths.js';
import { FailedPrecondition, HookFailed, Internal, InvalidArgument, SystemError, type TsrunError } from '../errors.js';
import { logger, rfc3339Nano } from '../log.js';
import { mkfifo, openPath, realtimeNanoseconds, unixConnect } from '../native/index.js';
import { loadBundle, type Bundle } from './bundle.js';
import { runHooks, runHooksWarning, stateJson, type HookState } from './hooks.js';
import { writeIdMaps } from './userns.js';
import { checkRootlessConfig, currentCaller, rootlessCgroups } from './rootless.js';
import { joinRdt, prepareRdt, removeRdt } from './intel-rdt.js';
import { deviceRules, qualifyCgroupError, resourcesOf } from './cgroup-config.js';
import { checkCgroupBeforeCreate, watchFrozen } from './cgroup-guard.js';
import { Cleanup } from './cleanup.js';
import { Container } from './container.js';
import { InitDriver } from './init-driver.js';
import { buildPlan, refuseUnbuilt } from './plan/index.js';
import { seccompListener } from './plan/seccomp.js';
import { readProcStat } from './proc.js';
import { handOverListener } from './seccomp-agent.js';
import { callerPath, invocation } from './invocation.js';
import type { Spawner } from './spawner.js';
import { userName, validateId, type StateStore } from './state-store.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** a connected console socket given as an fd instead (for our own tty proxy) */
  consoleSocketFd?: number;
  /** fds 3 .. 3+n-1 of this process go to the container */
  preserveFds?: number;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** the container's stdin, stdout, stderr; this process's own by default */
  stdio?: [number, number, number];
  /** --systemd-cgroup: cgroupsPath is "slice:prefix:name" and systemd makes the cgroup */
  systemdCgroup?: boolean;
  /** rootless cgroups (--rootless; auto when unset): cgroups the caller may not make are gone without */
  rootless?: boolean;
  /** the bundle, when the caller has read it already (run, for process.terminal) */
  loaded?: Bundle;
  /** who starts tsrun-init and is the container init's parent; this process by default */
  spawner?: Spawner;
}

/** Writes the pid file as runc does: a temporary name, then a rename. */
export function writePidFile(file: string, pid: number): void {
  const abs = callerPath(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, abs);
}

/** A created container and its init's pidfd (the caller's to close; -1 when the init had
 *  exited by the time the spawner claimed it). */
export interface Created {
  container: Container;
  pidfd: number;
}

export async function create(store: StateStore, opts: CreateOptions): Promise<Container> {
  const { container, pidfd } = await createInit(store, opts);
  if (pidfd >= 0) closeSync(pidfd);
  return container;
}

/** create, keeping the init's pidfd (the shim signals through it). */
export async function createInit(store: StateStore, opts: CreateOptions): Promise<Created> {
  validateId(opts.id);
  const bundle = opts.loaded ?? loadBundle(opts.bundle);
  const { config } = bundle;
  refuseUnbuilt(config);
  const terminal = config.process?.terminal ?? false;
  if (terminal && !opts.consoleSocket && opts.consoleSocketFd === undefined) {
    throw InvalidArgument.at('--console-socket', 'process.terminal is true: a console socket is needed to hand over the terminal');
  }
  if (!terminal && opts.consoleSocket) {
    throw InvalidArgument.at('--console-socket', 'given, but process.terminal is false');
  }
  const preserveFds = opts.preserveFds ?? 0;
  const layout = hostLayout();
  let paths = opts.systemdCgroup ? systemdCgroupPaths(config.linux?.cgroupsPath, opts.id, layout) : cgroupPaths(config.linux?.cgroupsPath, opts.id, layout);
  const caller = currentCaller();
  checkRootlessConfig(config, caller);
  if (opts.systemdCgroup && (opts.rootless ?? rootlessCgroups(undefined, caller))) {
    // runc drives the caller's own systemd (systemctl --user) there; tsrun does not.
    throw new FailedPrecondition('--systemd-cgroup: a rootless container needs the systemd user instance, which tsrun does not drive; use the cgroupfs driver', { field: '--systemd-cgroup' });
  }
  const planInput = {
    id: opts.id,
    bundle: bundle.dir,
    config,
    rootfs: bundle.rootfs,
    cgroupPaths: paths,
    layout,
    noPivot: opts.noPivot ?? false,
    noNewKeyring: opts.noNewKeyring ?? false,
    inUserNamespace: caller.inUserNamespace,
    unprivileged: caller.euid !== 0,
  };
  const plan = buildPlan(planInput);
  const ownPidNamespace = plan.namespaces.some((n) => n.type === 'pid' && n.path === '');
  const resources = resourcesOf(config.linux?.resources);
  const devices = deviceRules(config);
  const listener = seccompListener(config);

  const inv = invocation();
  const spawner = opts.spawner ?? inv.spawner;
  const cleanup = new Cleanup();
  const fds: number[] = [];
  try {
    store.reserve(opts.id);
    logger.debug(`create ${opts.id}: bundle ${bundle.dir}, rootfs ${bundle.rootfs}`);
    cleanup.push('remove state directory', () => store.remove(opts.id));
    // Were the server running this for a caller lost from here on, the caller takes it back.
    inv.undoIfLost?.(['--root', store.root, 'delete', '--force', opts.id]);
    mkfifo(store.fifoPath(opts.id), 0o622);
    const fifoFd = openPath(store.fifoPath(opts.id));
    fds.push(fifoFd);
    const consoleFd = opts.consoleSocket ? unixConnect(callerPath(opts.consoleSocket)) : opts.consoleSocketFd;
    if (opts.consoleSocket && consoleFd !== undefined) fds.push(consoleFd);

    store.saveClaims(opts.id, { cgroupPaths: paths });
    const rootless = opts.rootless ?? rootlessCgroups(undefined, caller);
    const place = { explicitPath: Boolean(config.linux?.cgroupsPath), resources };
    // Judged as they are, before a rootless create makes any of them.
    checkCgroupBeforeCreate(cgroupManager(paths));
    if (rootless) {
      paths = makeRootless(paths, place);
      store.saveClaims(opts.id, { cgroupPaths: paths });
    }
    let cgroup = cgroupManager(paths);
    // Pushed first: a create that fails half-way leaves no directory behind either.
    cleanup.push('remove cgroups', () => cgroup.destroy());
    try {
      logger.debug(`create ${opts.id}: cgroups ${[...Object.values(paths.v1), ...(paths.unified ? [paths.unified] : [])].join(' ')}`);
      cgroup.create({ resources, devices, rootless });
    } catch (err) {
      throw qualifyCgroupError(err);
    }
    const rdt = prepareRdt(config.linux, opts.id) ?? undefined;
    cleanup.push('remove the resctrl group', () => removeRdt(rdt));

    // Rootless joins by its own rules (joinRootless), after the start.
    const join = rootless ? { tasks: [] } : cgroup.selfJoin();
    const driver = await InitDriver.start(
      spawner,
      { plan, stdio: opts.stdio ?? [...inv.stdio], preserveFds: Array.from({ length: preserveFds }, (_, i) => inv.fd(3 + i)), fifoFd, consoleSocketFd: consoleFd, cgroup: join.dir },
      cleanup,
      'container',
    );
    // Before the plan: the bootstrap forks the container's init only after reading it,
    // so the init is in its cgroups before it runs a single instruction of its own.
    if (rootless) {
      try {
        paths = joinRootless(paths, driver.bootstrapPid, place);
      } catch (err) {
        throw qualifyCgroupError(err);
      }
      cgroup = cgroupManager(paths);
      store.saveClaims(opts.id, { cgroupPaths: paths });
    } else {
      cgroup.addProcess(driver.bootstrapPid, { tasks: join.tasks, dir: driver.bootstrapInCgroup ? join.dir : undefined });
      if (driver.bootstrapInCgroup) logger.debug(`create ${opts.id}: tsrun-init started in ${join.dir}`);
    }
    if (rdt) joinRdt(rdt, driver.bootstrapPid);
    // A hierarchy a rootless create went without is the caller's own cgroup, which the
    // container stays in: its cgroup mount binds that one, as runc's does.
    const unjoined = paths.unjoined?.length ? mountSources(paths, ownCgroupPaths(layout)) : undefined;
    driver.sendPlan({ cgroupTasks: join.tasks, ...(unjoined ? { rootfsOps: buildPlan({ ...planInput, cgroupPaths: unjoined }).rootfsOps } : {}) });

    const linux = config.linux ?? {};
    // Frozen, tsrun-init would never answer: end it (its tasks die only once thawed, v1).
    let frozen = null as TsrunError | null;
    const stopWatch = watchFrozen(paths, (err) => {
      frozen = err;
      void cgroup.thaw().catch(() => undefined).then(() => driver.kill());
    });
    cleanup.push('stop watching the freezer', stopWatch);
    const { pid, pidfd } = await driver.run({
      stopped: () => frozen,
      userns: (child) => writeIdMaps(child, linux.uidMappings ?? [], linux.gidMappings ?? []),
      hooks: async (child) => {
        const state: HookState = { id: opts.id, status: 'created', pid: child, bundle: bundle.dir, annotations: config.annotations ?? {} };
        await runHooks(config, 'prestart', state);
        await runHooks(config, 'createRuntime', state);
        return stateJson(state);
      },
      seccomp: (child, childfd, fd) => {
        if (!listener) throw new Internal('tsrun-init reported a seccomp listener nobody asked for');
        const owner = { id: opts.id, bundle: bundle.dir, annotations: config.annotations ?? {}, initPid: child, status: 'creating' as const, pid: child };
        handOverListener(listener, owner, childfd, fd);
      },
    });
    stopWatch();
    await driver.finish();

    const stat = readProcStat(pid);
    if (!stat) throw new SystemError('container init vanished after set-up', { errno: os.errno.ESRCH });
    const container = new Container(store, {
      id: opts.id,
      bundle: bundle.dir,
      rootfs: bundle.rootfs,
      pid,
      pidStartTime: stat.startTime,
      // runc's is Go's time.Now(), to the nanosecond
      created: rfc3339Nano(realtimeNanoseconds()),
      owner: userName(process.getuid?.() ?? 0),
      annotations: config.annotations ?? {},
      cgroupPaths: paths,
      resources,
      ownPidNamespace,
      noNewKeyring: opts.noNewKeyring ?? false,
      rdt,
      config: bundle.raw,
    });
    store.save(container.state);
    logger.debug(`create ${opts.id}: created; pid ${pid} waits on the exec fifo`);
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    cleanup.release();
    return { container, pidfd };
  } catch (err) {
    await cleanup.run();
    // A failed create hook stops the container and the lifecycle goes on with poststop.
    if (err instanceof HookFailed) {
      await runHooksWarning(config, 'poststop', { id: opts.id, status: 'stopped', pid: 0, bundle: bundle.dir, annotations: config.annotations ?? {} });
    }
    throw err;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

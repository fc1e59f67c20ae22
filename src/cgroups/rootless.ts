// runc 1.1's cgroup rules for a caller without full access to cgroups (`--rootless`, or
// auto: an unprivileged caller, or root inside a user namespace). A hierarchy the caller may
// not create or join is gone without, when config.json gave no cgroupsPath; resources asked
// of it are then refused with runc's words, and device rules are best effort (only root may
// write devices.allow or attach a device program).
import { existsSync, rmdirSync } from 'node:fs';
import { constants as os } from 'node:os';
import path from 'node:path';
import { FailedPrecondition, SystemError } from '../errors.js';
import { logger } from '../log.js';
import { mkdirCgroup, writeCgroupFile } from './fs.js';
import type { CgroupPaths } from './manager.js';
import { controllersFor, type Resources } from './resources.js';
import { prepareCpuset } from './v1/cpuset.js';

const { EPERM, EACCES, EROFS } = os.errno;

/** runc's isIgnorableError: permission in the loose sense (EROFS too, for a read-only mount). */
export function isPermissionError(err: unknown): boolean {
  if (err instanceof SystemError) return err.errno === EPERM || err.errno === EACCES || err.errno === EROFS;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPERM' || code === 'EACCES' || code === 'EROFS';
}

/** True when the paths name at least one directory the container is in. */
export function hasCgroups(paths: CgroupPaths): boolean {
  return Object.keys(paths.v1).length > 0 || paths.unified !== undefined;
}

/** runc's error for a limit whose hierarchy a rootless create could not make or join. */
export function unjoinedError(field: string, controller: string): FailedPrecondition {
  const reason = `cannot set ${controller} limit: container could not join or create cgroup`;
  return new FailedPrecondition(`${field}: ${reason}`, { field, reason });
}

/** Refuses any limit at all: the container has no cgroup to set it in. */
export function refuseAll(r: Resources): void {
  const [first] = controllersFor(r);
  if (first) throw unjoinedError(first[1], first[0]);
  if (r.unified && Object.keys(r.unified).length) throw unjoinedError('unified', 'unified');
}

/** Refuses resources of a hierarchy in `unjoined` (a v1 key names its controllers). */
export function refuseUnjoined(paths: CgroupPaths, r: Resources): void {
  const unjoined = paths.unjoined ?? [];
  if (!unjoined.length) return;
  if (!hasCgroups(paths)) return refuseAll(r);
  for (const [controller, field] of controllersFor(r)) {
    if (unjoined.some((k) => k.split(',').includes(controller))) throw unjoinedError(field, controller);
  }
}

/** runc's words for pause, resume (and kill --all's freeze) without a freezer cgroup. */
export function freezerMissing(): FailedPrecondition {
  return new FailedPrecondition('cannot toggle freezer: cgroups not configured for container');
}

interface Slot {
  /** a v1 key, or "" for the unified tree */
  key: string;
  dir: string;
}

function slots(paths: CgroupPaths): Slot[] {
  const out = Object.entries(paths.v1).map(([key, dir]) => ({ key, dir }));
  if (paths.unified) out.push({ key: '', dir: paths.unified });
  return out;
}

function without(paths: CgroupPaths, keys: readonly string[]): CgroupPaths {
  if (!keys.length) return paths;
  const v1 = Object.fromEntries(Object.entries(paths.v1).filter(([k]) => !keys.includes(k)));
  let unified = keys.includes('') ? undefined : paths.unified;
  // The driver is chosen by the v1 paths: a hybrid host's unified tree alone is not a v2
  // container, so it goes too when no v1 hierarchy is left.
  const v1Host = Object.keys(paths.v1).length > 0;
  const gone = [...keys];
  if (v1Host && Object.keys(v1).length === 0 && unified !== undefined) {
    gone.push('');
    unified = undefined;
  }
  const next: CgroupPaths = { v1, unjoined: [...(paths.unjoined ?? []), ...gone] };
  if (unified !== undefined) next.unified = unified;
  if (paths.unifiedMount !== undefined) next.unifiedMount = paths.unifiedMount;
  return next;
}

/** Removes the directories we made for a hierarchy we then had to leave (best effort). */
function undoMade(made: readonly string[]): void {
  for (const dir of [...made].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not ours to remove after all, or busy: nothing joined it, the caller's own tree
    }
  }
}

/** The directories mkdir -p would make, outermost first. */
function missingDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = path.dirname(d)) missing.unshift(d);
  return missing;
}

export interface RootlessPlace {
  /** config.json gave linux.cgroupsPath: then a denied hierarchy is an error, as runc's */
  explicitPath: boolean;
  resources: Resources;
}

/**
 * Makes the container's directories, hierarchy by hierarchy (cpuset filled in from its
 * parent), and returns the paths it may use. A v1 hierarchy the caller is denied is left
 * out when there is no explicit cgroupsPath; a hybrid host's unified tree whatever the path
 * (runc 1.1.5 joins it only where it may); on a v2 host runc goes without a cgroup only
 * when no limit is asked for either.
 */
export function makeRootless(paths: CgroupPaths, place: RootlessPlace): CgroupPaths {
  const dropped: string[] = [];
  const made: string[] = [];
  const v2 = Object.keys(paths.v1).length === 0;
  try {
    for (const { key, dir } of slots(paths)) {
      const before = made.length;
      try {
        made.push(...missingDirs(dir));
        mkdirCgroup(dir);
        if (key.split(',').includes('cpuset')) prepareCpuset(dir);
      } catch (err) {
        undoMade(made.splice(before));
        if (!isPermissionError(err) || (place.explicitPath && !(key === '' && !v2))) throw err;
        if (v2 && (controllersFor(place.resources).length || Object.keys(place.resources.unified ?? {}).length)) {
          throw new FailedPrecondition(`rootless needs no limits + no cgrouppath when no permission is granted for cgroups: ${(err as Error).message}`);
        }
        logger.debug(`rootless: going without the cgroup ${dir}: ${(err as Error).message}`);
        dropped.push(key);
      }
    }
  } catch (err) {
    // Whatever this create made goes with it: a failed create leaves no cgroup behind.
    undoMade(made);
    throw err;
  }
  return without(paths, dropped);
}

/**
 * Puts pid in each of the container's cgroups. A v1 hierarchy that refuses it is left, as
 * runc leaves it, unless a limit was set there or the path was explicit (hybrid's unified
 * tree is left whatever the path); on a v2 host the join must succeed. Returns the paths
 * the pid is in.
 */
export function joinRootless(paths: CgroupPaths, pid: number, place: RootlessPlace): CgroupPaths {
  const dropped: string[] = [];
  const v2 = Object.keys(paths.v1).length === 0;
  for (const { key, dir } of slots(paths)) {
    try {
      writeCgroupFile(path.join(dir, 'cgroup.procs'), String(pid));
    } catch (err) {
      if (!isPermissionError(err) || v2 || (place.explicitPath && key !== '')) throw err;
      logger.debug(`rootless: leaving the cgroup ${dir}: ${(err as Error).message}`);
      dropped.push(key);
      undoMade([dir]);
    }
  }
  const kept = without(paths, dropped);
  refuseUnjoined(kept, place.resources);
  return kept;
}

/** Device rules where the caller may write them; skipped (and said so in debug) where not. */
export function bestEffortDevices(apply: () => void): void {
  try {
    apply();
  } catch (err) {
    logger.debug(`rootless: device rules not applied: ${(err as Error).message}`);
  }
}

/**
 * The directories a container's cgroup mount binds: its own, and for a hierarchy it went
 * without, the caller's (`callerPaths`), where it stays.
 */
export function mountSources(paths: CgroupPaths, callerPaths: CgroupPaths): CgroupPaths {
  const v1 = { ...paths.v1 };
  for (const key of paths.unjoined ?? []) {
    const own = callerPaths.v1[key];
    if (key && own && !(key in v1)) v1[key] = own;
  }
  return { ...paths, v1 };
}

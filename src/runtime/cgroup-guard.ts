// The container's cgroups as create finds them, judged as runc 1.1 does before it makes
// anything: processes already there are warned about, a frozen freezer refuses the create.
// And while create waits on tsrun-init, a freeze would stop it for good: it is watched for,
// so that create fails with the same words instead of hanging.
import { frozenBy } from '../cgroups/frozen.js';
import type { CgroupManager, CgroupPaths } from '../cgroups/manager.js';
import { FailedPrecondition } from '../errors.js';
import { logger } from '../log.js';

const FROZEN = "container's cgroup unexpectedly frozen";
const WATCH_EVERY_MS = 200;

export function frozenError(paths: CgroupPaths): FailedPrecondition | null {
  const by = frozenBy(paths);
  return by ? new FailedPrecondition(`${FROZEN}: ${by}`, { path: by.split(' ')[0] }) : null;
}

/** runc's checks before create: both its warnings, word for word, and its refusal. */
export function checkCgroupBeforeCreate(cgroup: CgroupManager): void {
  if (cgroup.exists()) {
    const pids = cgroup.procs();
    if (pids.length) {
      logger.warn(`container's cgroup is not empty: ${pids.length} process(es) found`);
      logger.warn("DEPRECATED: running container in a non-empty cgroup won't be supported in runc 1.2; https://github.com/opencontainers/runc/issues/3132");
    }
  }
  const frozen = frozenError(cgroup.paths);
  if (frozen) throw frozen;
}

/** Calls onFrozen (once) if the cgroups become frozen; returns the function that stops watching. */
export function watchFrozen(paths: CgroupPaths, onFrozen: (err: FailedPrecondition) => void): () => void {
  const timer = setInterval(() => {
    const err = frozenError(paths);
    if (!err) return;
    clearInterval(timer);
    onFrozen(err);
  }, WATCH_EVERY_MS);
  return () => clearInterval(timer);
}

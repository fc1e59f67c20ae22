// Where the systemd driver's cgroups are: the unit's cgroup under init's own, in every
// hierarchy (runc's getSubsystemPath). systemd 226 and later runs in /init.scope, which is
// not part of the path; inside a cgroup namespace init's cgroup is the namespace's root.
import { existsSync, readFileSync } from 'node:fs';
import { FailedPrecondition } from '../../errors.js';
import { hostLayout, parseProcCgroup, type CgroupLayout } from '../detect.js';
import type { CgroupPaths } from '../manager.js';
import { cleanJoin, placed } from '../paths.js';
import { systemdUnit } from './unit-name.js';

/** sd_booted(): systemd runs as init when /run/systemd/system exists. */
export function systemdRunning(root = '/'): boolean {
  return existsSync(`${root.replace(/\/$/, '')}/run/systemd/system`);
}

const initCgroups = (): Map<string, string> => parseProcCgroup(readFileSync('/proc/1/cgroup', 'utf8'));

/**
 * --systemd-cgroup's placement of cgroupsPath ("slice:prefix:name"). A malformed path fails
 * with its own error first; a host without systemd fails naming the flag, before anything
 * is made.
 */
export function systemdCgroupPaths(
  cgroupsPath: string | undefined,
  id: string,
  layout: CgroupLayout = hostLayout(),
  init: () => Map<string, string> = initCgroups,
  running: () => boolean = systemdRunning,
): CgroupPaths {
  const u = systemdUnit(cgroupsPath, id);
  if (!running()) {
    throw new FailedPrecondition(
      `--systemd-cgroup: systemd is not running on this host (no /run/systemd/system), so it cannot create unit ${u.unit} in ${u.slice}; use the default cgroupfs driver`,
      { field: '--systemd-cgroup' },
    );
  }
  const own = init();
  const paths = placed(layout, (key) => cleanJoin((own.get(key) ?? '/').replace(/\/init\.scope$/, '') || '/', u.path));
  return { ...paths, systemd: { unit: u.unit, slice: u.slice, name: u.name } };
}
